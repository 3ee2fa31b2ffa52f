"""The resultstore, one contract over CSV, SQLite and a real MariaDB database."""

from __future__ import annotations

import itertools
import json
import math
import sqlite3
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

from fastpath.cli.result import result as result_cli
from fastpath.errors import Invalid, Unavailable
from fastpath.results import analysis
from fastpath.results.backend import Filters, open_store
from tests.databases import scratch_database

FORMATS = ("csv", "sqlite", "mysql")


def make_url(kind: str, tmp_path, stack) -> str:
    name = uuid.uuid4().hex[:8]
    if kind == "csv":
        return f"csv://{tmp_path}/rs-{name}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/rs-{name}.db"
    return stack.enter_context(scratch_database("mysql"))


@pytest.fixture
def urls(tmp_path):
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda kind: make_url(kind, tmp_path, stack)


@pytest.fixture(params=FORMATS)
def url(request, urls):
    return urls(request.param)


def manifest(values, *, sw="baseline", kernel="6.19.0", sut="demo-01", session=None, errors=(),
             params=None, job=1, cmdline=("quiet",), plan=7, when="2026-11-24T10:00:00Z",
             modules=None) -> dict:
    return {
        "format": 1, "plan_id": plan, "job_id": job, "session_id": session or str(uuid.uuid4()),
        "collected_at": when,
        "sut": {"name": sut, "fingerprint": {"HW": {"host_name": sut, "architecture": "x86_64",
                                                    "cpu_count": 2, "cpu_model": "Epyc é"},
                                             "SW": {"kernel_name": kernel}}},
        "swprofile": {"name": sw, "kernel_name": kernel, "kernel_git_sha": None,
                      "kernel_digest": None, "userspace": "Debian GNU/Linux 12 (bookworm)",
                      "cmdline": list(cmdline), "sysctl": [], "bootscript": None,
                      "modules_digest": modules},
        "benchmarks": [{"suite": "sysbench", "name": "cpu", "type": "container",
                        "image": "localhost/fastpath-bench-sysbench:1",
                        "params": params or {"threads": 1}}],
        "results": [{"benchmark": 0, "repeat": i, "resultclass": "events-per-second",
                     "unit": "events/s", "improvement": "bigger", "value": v}
                    for i, v in enumerate(values)],
        "errors": [{"benchmark": 0, "phase": "repeat", "index": 9 + i, "timestamp": "2026-11-24T10:00:00Z",
                    "code": c, "message": m} for i, (c, m) in enumerate(errors)],
    }


def stats(url, **filters):
    store = open_store(url)
    try:
        return {(key[0].split("@")[0], key[1], key[2]): analysis.summarise(parts)
                for key, parts in analysis.groups(store.aggregate(Filters(**filters))).items()}
    finally:
        store.close()


def test_publish_is_idempotent(url):
    store = open_store(url, create=True)
    m = manifest([10.0, 12.0], errors=[(124, "timed out after 30s")])
    assert store.publish(m) == 3
    assert store.publish(m) == 0  # a re-publish after a crash adds nothing
    assert [r["id"] for r in store.rows("swprofile")] == ["baseline"]
    assert [r["id"] for r in store.rows("sut")] == ["demo-01"]
    [bench] = store.rows("benchmark")
    assert bench["id"].startswith("sysbench/cpu@") and bench["params"] == '{"threads":1}'
    [(sid, results, errors)] = list(store.sessions())
    assert sid == m["session_id"] and len(results) == 2
    assert errors[0]["code"] == 124 and errors[0]["message"] == "timed out after 30s"
    store.close()
    reopened = open_store(url)  # and it is all still there
    assert len(list(reopened.sessions())) == 1
    reopened.close()


def test_statistics_against_a_hand_computed_set(url):
    store = open_store(url, create=True)
    store.publish(manifest([10.0, 12.0]))
    store.publish(manifest([14.0, 16.0]))  # a second session of the same swprofile
    store.close()
    [(key, s)] = stats(url).items()
    assert key == ("sysbench/cpu", "events-per-second", "baseline")
    # session means 11 and 15: mean 13, between sqrt(8), t(0.975, 1) = 12.7062; within sqrt(4 / 2)
    assert (s.sessions, s.count, s.mean, s.min, s.max) == (2, 4, 13.0, 10.0, 16.0)
    assert sorted(s.session_means) == [11.0, 15.0]
    assert s.between == pytest.approx(math.sqrt(8)) and s.within == pytest.approx(math.sqrt(2))
    half = 12.70620474 * math.sqrt(8) / math.sqrt(2)
    assert s.ci95min == pytest.approx(13 - half, rel=1e-6)
    assert s.ci95max == pytest.approx(13 + half, rel=1e-6)
    assert s.cv == pytest.approx(math.sqrt(8) / 13)


def test_a_reused_swprofile_name_with_other_content_gets_its_own_id(url):
    store = open_store(url, create=True)
    store.publish(manifest([1.0], kernel="6.18.0"))
    store.publish(manifest([2.0], kernel="6.18.0"))  # same content: same ID
    store.publish(manifest([3.0], kernel="6.19.0"))  # another kernel under the same name
    store.publish(manifest([4.0], kernel="6.19.0", sut="demo-01"))
    ids = sorted(r["id"] for r in store.rows("swprofile"))
    assert ids == ["baseline", "baseline~2"]
    store.close()
    by_sw = {k[2]: v.count for k, v in stats(url).items()}
    assert by_sw == {"baseline": 2, "baseline~2": 2}


def test_filters(url):
    store = open_store(url, create=True)
    store.publish(manifest([1.0], sw="a"))
    store.publish(manifest([2.0], sw="b", params={"threads": 2}))
    store.close()
    assert {k[2] for k in stats(url, swprofiles=("b",))} == {"b"}
    assert stats(url, benchmark="stress-ng/*") == {}
    assert len(stats(url, benchmark="sysbench/*")) == 2
    assert stats(url, sut="demo-02") == {}


@pytest.mark.parametrize("src_kind, dst_kind", list(itertools.product(FORMATS, FORMATS)))
def test_merge_between_every_pair_of_formats(urls, src_kind, dst_kind):
    src, dst = urls(src_kind), urls(dst_kind)
    store = open_store(src, create=True)
    published = [manifest([0.1 + 0.2, 1e-300, 123456789.123456789], errors=[(3, "exit ünïcode")]),
                 manifest([2.5], sw="other", cmdline=())]
    for m in published:
        store.publish(m)
    store.close()
    runner = CliRunner()
    done = runner.invoke(result_cli, ["merge", src, dst])
    assert done.exit_code == 0, done.output
    assert "5 rows added" in done.output
    again = runner.invoke(result_cli, ["merge", src, dst])
    assert "0 rows added" in again.output  # merging twice adds nothing
    a, b = open_store(src), open_store(dst)
    for table in ("sut", "swprofile", "benchmark", "resultclass"):
        assert sorted(map(repr, a.rows(table))) == sorted(map(repr, b.rows(table))), table
    assert sorted(map(repr, a.sessions())) == sorted(map(repr, b.sessions()))
    values = sorted(r["value"] for _, rs, _ in b.sessions() for r in rs)
    assert values == sorted([0.1 + 0.2, 1e-300, 123456789.123456789, 2.5])  # floats exact
    a.close()
    b.close()


def test_list_and_show_through_the_cli(url):
    store = open_store(url, create=True)
    for i, means in enumerate(((10.0, 12.0, 14.0, 16.0), (20.0, 22.0, 24.0, 26.0), (13.0, 12.0))):
        sw, kernel = (("old", "6.19.0"), ("new", "6.20.0"), ("same", "6.21.0"))[i]
        for job, m in enumerate(means):  # one session per mean, repeats m - 1 and m + 1
            store.publish(manifest([m - 1, m + 1], sw=sw,
                                   kernel=kernel, job=10 * i + job))
    store.close()
    runner = CliRunner()
    out = runner.invoke(result_cli, ["list", url, "--object", "swprofile", "--id", "ne*"]).output
    assert "| ID             | new" in out and "| Kernel Git SHA | <none>" in out and "old" not in out
    assert "| bootscript     | <none>" in out
    out = runner.invoke(result_cli, ["list", url, "--object", "sut"]).output
    assert "demo-01" in out and "Epyc é" in out
    missing = runner.invoke(result_cli, ["list", url, "--object", "benchmark", "--id", "nothing*"])
    assert missing.exit_code == 4 and "no benchmark" in missing.output
    out = runner.invoke(result_cli, ["show", url, "--swprofile", "old"]).output
    lines = [line for line in out.splitlines() if "sysbench/cpu" in line]
    assert len(lines) == 1
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    # session means 10..16: mean 13, between sqrt(20/3), t(0.975, 3) = 3.18245; within sqrt(2)
    assert cells == ["sysbench/cpu", "events-per-second (events/s)", "9.00", "8.89", "13.00",
                     "17.11", "17.00", "1.41", "2.58", "4", "8"]
    rel = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--relative"]).output
    assert "-30.77%" in rel and "31.60%" in rel and "19.86%" in rel
    cmp_out = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--swprofile", "new",
                                         "--swprofile", "same"]).output
    row = next(line for line in cmp_out.splitlines() if "sysbench/cpu" in line)
    # new: t = 10 / sqrt(2 * (20/3) / 4) = 5.477, 6 degrees of freedom, p = 0.001547;
    # the change's interval 10 +- 2.44691 * 1.82574 = [5.533, 14.467], in % of 13
    assert "13.00" in row and "+76.92% [+42.56, +111.29] p=0.002 (better)" in row
    assert "-3.85% [" in row and "(~, weak)" in row  # same: 2 sessions only
    assert "Welch's t-test over session means" in cmp_out
    js = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--swprofile", "new",
                                    "--json"]).output
    change = __import__("json").loads(js)["comparison"][0]["changes"]["new"]
    assert change["significant"] and change["p"] == pytest.approx(0.001547, rel=1e-3)
    assert not change["weak"] and change["sessions"] == 4
    unknown = runner.invoke(result_cli, ["show", url, "--swprofile", "nope"])
    assert unknown.exit_code == 4 and "no swprofile 'nope'" in unknown.output


def test_the_cli_in_a_real_process(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    store = open_store(url, create=True)
    store.publish(manifest([1.0, 2.0]))
    store.close()
    done = subprocess.run([sys.executable, "-m", "fastpath", "result", "show", url],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "sysbench/cpu" in done.stdout


def test_a_mysql_store_without_its_driver_is_one_line_naming_the_extra(tmp_path):
    """A real process in which pymysql cannot be imported, as where it is not installed."""
    code = ("import sys; sys.modules['pymysql'] = None; from fastpath.cli import main; "
            "main(['result', 'show', 'mysql://root@127.0.0.1:3306/fp_results'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr == ("Error: the pymysql driver is not installed, needed for a MySQL "
                           "resultstore: pip install 'fastpath-scheduler[mysql]'\n")
    assert done.returncode == 2


@pytest.mark.parametrize("bad, words", [
    ("ftp://host/x", "unknown scheme 'ftp'"),
    ("", "empty"),
    ("sqlite://", "use sqlite:///file.db"),
    ("csv://relative/dir", "csv:///absolute/dir"),
    ("mysql:///nodb", "use mysql://"),
])
def test_malformed_urls(bad, words):
    with pytest.raises(Invalid, match=words):
        open_store(bad)


def test_unreachable_and_missing_stores(tmp_path):
    with pytest.raises(Unavailable, match="cannot reach the resultstore"):
        open_store("mysql://root:secret@127.0.0.1:1/db")
    with pytest.raises(Invalid, match="no resultstore at"):
        open_store(f"sqlite:///{tmp_path}/missing.db")
    with pytest.raises(Invalid, match="no resultstore at"):
        open_store(str(tmp_path / "missing-dir"))
    with pytest.raises(Invalid, match="does not exist"):
        open_store("mysql://root@127.0.0.1:3306/fp_no_such_db")
    done = CliRunner().invoke(result_cli, ["show", "mysql://root:hunter2@127.0.0.1:1/db"])
    assert done.exit_code == 6 and "hunter2" not in done.output  # never print the password


def test_foreign_schemas_are_refused(tmp_path, urls):
    db = tmp_path / "foreign.db"
    sqlite3.connect(db).execute("CREATE TABLE invoices (id INTEGER)").connection.commit()
    with pytest.raises(Invalid, match="not a Fastpath resultstore: invoices"):
        open_store(f"sqlite:///{db}", create=True)
    d = tmp_path / "notes"
    d.mkdir()
    (d / "todo.txt").write_text("x")
    with pytest.raises(Invalid, match="not a Fastpath resultstore"):
        open_store(str(d), create=True)
    mysql = urls("mysql")
    from urllib.parse import urlsplit

    import pymysql

    parts = urlsplit(mysql)
    with pymysql.connect(host=parts.hostname, user=parts.username, password=parts.password or "",
                         database=parts.path[1:]) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE meta (`key` VARCHAR(10), value TEXT)")
        cur.execute("INSERT INTO meta VALUES ('format', 'something-else')")
        conn.commit()
    with pytest.raises(Invalid, match="not a Fastpath resultstore"):
        open_store(mysql)


CRASHER = """
import sys, json
from fastpath.results.backend import open_store
store = open_store(sys.argv[1], create=True)
store.publish(json.load(open(sys.argv[2])))
print("published", flush=True)
"""


@pytest.mark.parametrize("kind", ["csv", "sqlite"])
def test_a_publish_killed_at_any_moment_leaves_all_or_nothing(kind, urls, tmp_path):
    import json
    import signal
    import time

    url = urls(kind)
    m = manifest([float(i) for i in range(20000)])
    path = tmp_path / "m.json"
    path.write_text(json.dumps(m))
    outcomes = set()
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.2):
        proc = subprocess.Popen([sys.executable, "-c", CRASHER, url, str(path)],
                                stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            store = open_store(url)
        except Invalid:
            outcomes.add(-1)  # killed before the store existed
            continue
        counts = [len(r) for _, r, _ in store.sessions()]
        store.close()
        assert counts in ([], [20000]), counts
        outcomes.add(sum(counts))
    store = open_store(url, create=True)
    store.publish(m)  # the re-publish after the crash
    assert [len(r) for _, r, _ in store.sessions()] == [20000]  # exactly one copy
    store.close()


def cli(*args):
    return CliRunner().invoke(result_cli, [str(a) for a in args])


def test_plan_and_time_scope(url):
    store = open_store(url, create=True)
    store.publish(manifest([10.0, 11.0], plan=2, job=1, when="2026-11-20T10:00:00Z"))
    store.publish(manifest([30.0, 31.0], plan=5, job=2, when="2026-11-22T10:00:00Z", sut="demo-02"))
    store.publish(manifest([50.0], plan=8, job=3, when="2026-11-24T10:00:00Z", errors=[(1, "boom")]))
    store.close()
    assert {k: v.count for k, v in stats(url, plans=(2,)).items()} == {
        ("sysbench/cpu", "events-per-second", "baseline"): 2}
    assert stats(url, plans=(2, 5))[("sysbench/cpu", "events-per-second", "baseline")].count == 4
    assert stats(url, plans=(99,)) == {}
    assert stats(url, since="2026-11-21T00:00:00Z", until="2026-11-24T10:00:00Z")[
        ("sysbench/cpu", "events-per-second", "baseline")].mean == 30.5
    pooled = cli("show", url)
    assert pooled.exit_code == 0, pooled.output
    assert pooled.output.splitlines()[0] == ("Note: these results pool 3 plans (2, 5, 8); "
                                             "name one with --plan ID.")
    one = cli("show", url, "--plan", 5)
    assert "Note:" not in one.output and "30.50" in one.output
    two = cli("show", url, "--plan", 2, "--plan", 5)
    assert "Note:" not in two.output and "20.50" in two.output
    since = cli("show", url, "--since", "2026-11-23")
    assert "50.00" in since.output and "Note:" not in since.output
    until = cli("show", url, "--until", "2026-11-21T00:00:00+00:00")
    assert "10.50" in until.output
    assert cli("show", url, "--plan", 99).exit_code == 4
    bad = cli("show", url, "--since", "yesterday")
    assert bad.exit_code == 2 and "--since 'yesterday'" in bad.output
    suts = cli("list", url, "--object", "sut", "--plan", 5).output
    assert "demo-02" in suts and "demo-01" not in suts
    assert "demo-01" in cli("list", url, "--object", "sut", "--plan", 8).output  # only an error there
    store = open_store(url)
    try:
        assert [(e["plan_id"], e["job_id"]) for e in store.errors(Filters(plans=(8,)))] == [(8, 3)]
        assert store.errors(Filters(plans=(2,))) == []
    finally:
        store.close()


V1 = {"result": "session_id benchmark resultclass repeat value sut swprofile job_id plan_id",
      "error": "session_id benchmark phase idx timestamp sut swprofile code message",
      "swprofile": "id name kernel_name kernel_git_sha kernel_digest userspace cmdline sysctl bootscript "
                   "content_hash"}


def _make_v1(url: str) -> None:
    """Turn a fresh store into one as version 1 wrote it: no new columns, no plan index."""
    from pathlib import Path

    if url.startswith("csv://"):
        root = Path(url[len("csv://"):])
        for table, names in V1.items():
            files = [root / "swprofile.csv"] if table == "swprofile" else \
                sorted((root / "sessions").glob(f"*/{table}.csv"))
            for f in files:
                import csv

                with f.open(newline="") as src:
                    rows = list(csv.DictReader(src))
                with f.open("w", newline="") as out:
                    w = csv.DictWriter(out, names.split(), extrasaction="ignore")
                    w.writeheader()
                    w.writerows(rows)
        (root / "meta.csv").write_text("key,value\r\nformat,fastpath-resultstore\r\nversion,1\r\n")
        return
    store = open_store(url)
    try:
        store._run("DROP INDEX " + (f"{store.q('result_plan')} ON {store.q('result')}" if store.mysql
                                    else store.q("result_plan")))
        if not store.mysql:  # version 1's index
            store._run("DROP INDEX result_sessions")
            store._run("CREATE INDEX result_group ON result (benchmark, resultclass, swprofile)")
        for table, names in V1.items():
            for c in set(store._columns(table)) - set(names.split()):
                store._run(f"ALTER TABLE {store.q(table)} DROP COLUMN {store.q(c)}")
        store._run(f"UPDATE {store.q('meta')} SET {store.q('value')} = '1' "
                   f"WHERE {store.q('key')} = 'version'")
    finally:
        store.close()


def test_a_version_1_store_is_upgraded_when_opened(url):
    store = open_store(url, create=True)
    store.publish(manifest([10.0, 12.0], errors=[(3, "exit")]))
    store.close()
    _make_v1(url)
    store = open_store(url)  # upgrades
    try:
        meta = {r["key"]: r["value"] for r in store.rows("meta")}
        assert meta["version"] == "2"
        [row] = store.rows("swprofile")
        assert row["modules_digest"] is None and row["id"] == "baseline"
        assert {e["plan_id"] for e in store.errors(Filters())} == {None}
        assert [a.count for a in store.aggregate(Filters(plans=(7,)))] == [2]
        assert store.aggregate(Filters(since="2026-01-01T00:00:00Z")) == []  # old rows have no time
        # the same content publishes under the same ID; the hash without modules is unchanged
        store.publish(manifest([14.0]))
        store.publish(manifest([15.0], modules="sha256:abc"))
        assert sorted(r["id"] for r in store.rows("swprofile")) == ["baseline", "baseline~2"]
        if not url.startswith("csv://"):
            names = ({r[2] for r in store._run("SHOW INDEX FROM `result`").fetchall()} if store.mysql else
                     {r[0] for r in store._run("SELECT name FROM sqlite_master WHERE type='index'")})
            assert "result_plan" in names
            assert ("result_group" in names) == store.mysql and ("result_sessions" in names) != store.mysql
    finally:
        store.close()
    store = open_store(url)  # a second open finds nothing to do
    store.close()


def test_the_plan_filter_uses_an_index_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    store = open_store(url, create=True)
    store.publish(manifest([1.0]))
    plan = store._run("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM result WHERE plan_id IN (7)").fetchall()
    store.close()
    assert any("result_plan" in str(row) for row in plan), plan


def test_a_name_that_stands_for_several_contents_is_refused_unless_a_plan_narrows_it(url):
    store = open_store(url, create=True)
    for plan, kernel, base in ((2, "6.18.0", 10.0), (8, "6.19.0", 20.0)):  # baseline rebuilt for plan 8
        for job in range(3):
            store.publish(manifest([base + job, base + job + 0.5], kernel=kernel, plan=plan, job=job))
            store.publish(manifest([base + 5 + job, base + 5.5 + job], sw="candidate", plan=plan,
                                   job=10 + job))
    store.close()
    listed = cli("list", url, "--object", "swprofile")
    hashes = {r["id"]: r["content_hash"] for r in
              __import__("json").loads(cli("list", url, "--object", "swprofile", "--json").output)["objects"]}
    assert set(hashes) == {"baseline", "baseline~2", "candidate"}
    assert hashes["baseline"] != hashes["baseline~2"] and hashes["baseline~2"] in listed.output
    refused = cli("show", url, "--swprofile", "baseline", "--swprofile", "candidate")
    assert refused.exit_code == 2
    assert (f"swprofile 'baseline' stands for 2 different contents: baseline (hash "
            f"{hashes['baseline'][:12]}, plans 2); baseline~2 (hash {hashes['baseline~2'][:12]}, plans 8)"
            ) in refused.output
    narrowed = cli("show", url, "--swprofile", "baseline", "--swprofile", "candidate", "--plan", 8)
    assert narrowed.exit_code == 0, narrowed.output
    assert "| baseline~2 |" in narrowed.output  # the header names the ID the name resolved to
    assert "21.25" in narrowed.output  # plan 8's baseline: session means 20.25, 21.25, 22.25
    old = cli("show", url, "--swprofile", "baseline", "--plan", 2)
    assert old.exit_code == 0 and "11.25" in old.output
    explicit = cli("show", url, "--swprofile", "baseline~2", "--swprofile", "candidate")
    assert explicit.exit_code == 0 and "21.25" in explicit.output


def test_show_errors_lists_every_failed_run(url):
    store = open_store(url, create=True)
    store.publish(manifest([1.0], plan=3, job=4, session="s-a",
                           errors=[(124, "timed out after 60s"), (201, "malformed results.csv: line 2")]))
    store.publish(manifest([2.0], plan=5, job=9, session="s-b", sw="other",
                           errors=[(3, "the container exited with status 3")]))
    store.publish(manifest([3.0], plan=5, job=10, session="s-c"))
    store.close()
    out = cli("show", url, "--errors")
    assert out.exit_code == 0, out.output
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.output.splitlines()
            if line.startswith("|")]
    assert rows[0] == ["Plan", "Job", "Session", "Swprofile", "SUT", "Benchmark", "Run", "Code", "Time",
                       "Message"]
    assert [r[:3] + r[7:8] + r[9:] for r in rows[1:]] == [
        ["3", "4", "s-a", "124", "timed out after 60s"],
        ["3", "4", "s-a", "201", "malformed results.csv: line 2"],
        ["5", "9", "s-b", "3", "the container exited with status 3"]]
    js = __import__("json").loads(cli("show", url, "--errors", "--plan", 5, "--json").output)
    got = [(e["plan_id"], e["job_id"], e["session_id"], e["code"]) for e in js["errors"]]
    assert got == [(5, 9, "s-b", 3)]
    assert cli("show", url, "--errors", "--swprofile", "baseline", "--plan", 5).output.strip() == \
        "No failed runs match."


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_round_trips_into_a_fresh_store(url, urls, tmp_path, fmt):
    store = open_store(url, create=True)
    for job in range(3):
        store.publish(manifest([10.0 + job, 10.5 + job, 0.1 + 0.2], plan=4, job=job, sut="demo-02",
                               modules="sha256:m", cmdline=("quiet", "mitigations=off")))
        store.publish(manifest([20.0 + job, 20.25], sw="candidate", plan=4, job=10 + job,
                               params={"threads": 2}))
    store.publish(manifest([99.0], plan=5, job=50))  # another plan: not exported
    store.close()
    out = tmp_path / f"plan4.{fmt}"
    done = cli("export", url, "--plan", 4, "--format", fmt, "-o", out)
    assert done.exit_code == 0, done.output
    if fmt == "csv":
        import csv as csvmod

        with out.open(newline="") as f:
            rows = list(csvmod.DictReader(f))
        assert len(rows) == 3 * 3 + 3 * 2
        first = rows[0]
        assert (first["plan"], first["job"], first["swprofile"], first["metric"], first["sut"]) == \
            ("4", "0", "baseline", "events-per-second", "demo-02")
        assert first["swprofile_hash"] and '"HW"' in first["sut_fingerprint"] and first["params"]
    fresh = urls("sqlite")
    imported = cli("import", out, fresh)
    assert imported.exit_code == 0, imported.output
    for args in ([], ["--swprofile", "baseline", "--swprofile", "candidate"], ["--relative"]):
        want = cli("show", url, "--plan", 4, *args)
        got = cli("show", fresh, *args)  # what `result show` prints: the same table
        assert want.exit_code == 0 and got.output == want.output
        assert "sysbench/cpu" in got.output
    # unrounded, only the order of summation may differ
    want = json.loads(cli("show", url, "--plan", 4, "--json").output)["statistics"]
    got = json.loads(cli("show", fresh, "--json").output)["statistics"]
    assert [(g["swprofile"], g["sessions"], g["count"]) for g in got] == \
        [(w["swprofile"], w["sessions"], w["count"]) for w in want]
    assert [g["mean"] for g in got] == pytest.approx([w["mean"] for w in want], rel=1e-12)
    src, dst = open_store(url), open_store(fresh)
    try:
        key = {r["id"]: r["content_hash"] for r in src.rows("swprofile") if r["id"] != "baseline~2"}
        assert {r["id"]: r["content_hash"] for r in dst.rows("swprofile")} == key
    finally:
        src.close()
        dst.close()
    assert cli("import", out, fresh).output.endswith("0 rows added.\n")  # idempotent


def test_plot_draws_the_sessions(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    store = open_store(url, create=True)
    for job in range(3):
        store.publish(manifest([10.0 + job, 11.0], plan=4, job=job))
        store.publish(manifest([12.0 + job, 13.0], sw="candidate", plan=4, job=10 + job))
    store.close()
    for name in ("p.svg", "p.png"):
        done = cli("plot", url, "--plan", 4, "-o", tmp_path / name)
        assert done.exit_code == 0, done.output
        assert "1 panel(s)" in done.output
    svg = (tmp_path / "p.svg").read_text()
    assert "<svg" in svg and "events-per-second" in svg
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli("plot", url, "--plan", 4, "-o", tmp_path / "p.pdf").exit_code == 2
    assert cli("plot", url, "--plan", 9, "-o", tmp_path / "q.svg").exit_code == 4


def test_show_warns_when_placement_confounds_the_comparison(url):
    store = open_store(url, create=True)
    for job in range(3):  # plan 2: baseline always on demo-01, candidate always on demo-02
        store.publish(manifest([10.0 + job, 10.5], plan=2, job=job, sut="demo-01"))
        store.publish(manifest([12.0 + job, 12.5], sw="candidate", plan=2, job=10 + job, sut="demo-02"))
    for job, (a, b) in enumerate((("demo-01", "demo-02"), ("demo-02", "demo-01"))):  # plan 3: crossed
        store.publish(manifest([10.0 + job, 10.5], plan=3, job=20 + job, sut=a))
        store.publish(manifest([12.0 + job, 12.5], sw="candidate", plan=3, job=30 + job, sut=b))
    store.close()
    confounded = cli("show", url, "--swprofile", "baseline", "--swprofile", "candidate", "--plan", 2)
    assert ("Warning: unbalanced placement (baseline on demo-01 x3; candidate on demo-02 x3): a change "
            "may be the SUTs', not the swprofiles'.") in confounded.output.splitlines()
    assert "different hardware" not in confounded.output  # host names differ, nothing else
    crossed = cli("show", url, "--swprofile", "baseline", "--swprofile", "candidate", "--plan", 3)
    assert crossed.exit_code == 0 and "Warning" not in crossed.output
    js = json.loads(cli("show", url, "--swprofile", "baseline", "--swprofile", "candidate", "--plan", 2,
                        "--json").output)
    assert len(js["warnings"]) == 1


CREATOR = """
import json, os, sys, time
from fastpath.results.backend import open_store
url, gate, doc = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
while not os.path.exists(gate):  # all start together: the first publish into a new store
    time.sleep(0.001)
store = open_store(url, create=True)
store.publish(doc)
store.close()
"""


def test_concurrent_first_publishes_into_a_new_store_all_succeed(url, tmp_path):
    import json

    gate = tmp_path / "go"
    docs = [manifest([float(i)], job=i) for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-c", CREATOR, url, str(gate), json.dumps(doc)],
                              stderr=subprocess.PIPE, text=True) for doc in docs]
    gate.write_text("")
    failures = [(p.communicate(timeout=60)[1], p.returncode)[::-1] for p in procs]
    assert failures == [(0, "")] * len(procs)
    store = open_store(url)
    try:
        assert all(store.has_session(d["session_id"]) for d in docs)
    finally:
        store.close()


def test_a_placement_that_fell_back_is_noted_by_show_and_kept_by_merge(url, urls):
    note = "placement same fell back: demo-01 is unhealthy; ran on demo-02"
    store = open_store(url, create=True)
    store.publish(manifest([10.0, 11.0], plan=4, job=1, sut="demo-01"))
    doc = {**manifest([12.0], plan=4, job=2, sut="demo-02"), "placement": note}
    store.publish(doc)
    store.publish(doc)  # publishing again adds nothing, the note neither
    store.publish({**manifest([13.0], plan=4, job=3, sut="demo-02"), "placement": note})
    store.publish(manifest([20.0], plan=5, job=9))
    store.close()
    shown = cli("show", url, "--plan", 4)
    assert shown.exit_code == 0 and f"Note: plan 4: {note}." in shown.output.splitlines()
    assert shown.output.count("fell back") == 1  # one line per plan and reason, not per job
    assert "fell back" not in cli("show", url, "--plan", 5).output
    assert f"Note: plan 4: {note}." in cli("show", url).output  # pooled: still said
    js = json.loads(cli("show", url, "--plan", 4, "--json").output)
    assert js["notes"] == [f"Note: plan 4: {note}."]
    reopened = open_store(url)
    meta = {r["key"]: r["value"] for r in reopened.rows("meta")}
    reopened.close()
    assert meta["format"] == "fastpath-resultstore" and meta["version"] == "2"  # nothing lost
    other = urls("sqlite" if url.startswith("csv://") else "csv")
    target = open_store(other, create=True)
    target.merge_from(open_store(url))
    target.close()
    assert f"Note: plan 4: {note}." in cli("show", other, "--plan", 4).output.splitlines()


def test_a_version_1_csv_store_keeps_its_placement_notes_when_upgraded(urls):
    url = urls("csv")
    store = open_store(url, create=True)
    store.publish({**manifest([1.0], plan=3), "placement": "placement same fell back: x"})
    store.close()
    from pathlib import Path

    meta = Path(url[len("csv://"):]) / "meta.csv"
    meta.write_text(meta.read_text().replace("version,2", "version,1"))
    open_store(url).close()  # upgrades
    assert "version,2" in meta.read_text() and "placement:3:1,placement same fell back: x" in meta.read_text()
