"""The resultstore, one contract over CSV, SQLite and a real MariaDB database."""

from __future__ import annotations

import itertools
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
             params=None, job=1, cmdline=("quiet",)) -> dict:
    return {
        "format": 1, "plan_id": 7, "job_id": job, "session_id": session or str(uuid.uuid4()),
        "sut": {"name": sut, "fingerprint": {"HW": {"host_name": sut, "architecture": "x86_64",
                                                    "cpu_count": 2, "cpu_model": "Epyc é"},
                                             "SW": {"kernel_name": kernel}}},
        "swprofile": {"name": sw, "kernel_name": kernel, "kernel_git_sha": None,
                      "kernel_digest": None, "userspace": "Debian GNU/Linux 12 (bookworm)",
                      "cmdline": list(cmdline), "sysctl": [], "bootscript": None},
        "benchmarks": [{"suite": "sysbench", "name": "cpu", "type": "container",
                        "image": "localhost/fastpath-bench-sysbench:1",
                        "params": params or {"threads": 1}}],
        "results": [{"benchmark": 0, "repeat": i, "resultclass": "events-per-second",
                     "unit": "events/s", "improvement": "bigger", "value": v}
                    for i, v in enumerate(values)],
        "errors": [{"benchmark": 0, "phase": "repeat", "index": 9, "timestamp": "2026-11-24T10:00:00Z",
                    "code": c, "message": m} for c, m in errors],
    }


def stats(url, **filters):
    store = open_store(url)
    try:
        return {(a.benchmark.split("@")[0], a.resultclass, a.swprofile): analysis.summarise(a)
                for a in store.aggregate(Filters(**filters))}
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
    # mean 13, sample stdev sqrt(20/3) = 2.58199, t(0.975, 3) = 3.18245
    assert (s.count, s.mean, s.min, s.max) == (4, 13.0, 10.0, 16.0)
    assert s.stdev == pytest.approx(math.sqrt(20 / 3))
    half = 3.182446305 * math.sqrt(20 / 3) / 2
    assert s.ci95min == pytest.approx(13 - half, rel=1e-6)
    assert s.ci95max == pytest.approx(13 + half, rel=1e-6)
    assert s.cv == pytest.approx(math.sqrt(20 / 3) / 13)


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
    store.publish(manifest([10.0, 12.0, 14.0, 16.0], sw="old"))
    store.publish(manifest([20.0, 22.0, 24.0, 26.0], sw="new", kernel="6.20.0"))
    store.publish(manifest([13.0, 13.5, 12.5, 13.0], sw="same", kernel="6.21.0"))
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
    assert cells == ["sysbench/cpu", "events-per-second (events/s)", "10.00", "8.89", "13.00",
                     "17.11", "16.00", "19.86%", "4"]
    rel = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--relative"]).output
    assert "-23.08%" in rel and "31.60%" in rel
    cmp_out = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--swprofile", "new",
                                         "--swprofile", "same"]).output
    row = next(line for line in cmp_out.splitlines() if "sysbench/cpu" in line)
    assert "13.00" in row and "+76.92% (better)" in row and "+0.00% (~)" in row
    assert "Welch's t-test" in cmp_out
    js = runner.invoke(result_cli, ["show", url, "--swprofile", "old", "--swprofile", "new",
                                    "--json"]).output
    change = __import__("json").loads(js)["comparison"][0]["changes"]["new"]
    # t = 10 / sqrt(2 * (20/3) / 4) = 5.477 with 6 degrees of freedom: p = 0.001547 (two-sided)
    assert change["significant"] and change["p"] == pytest.approx(0.001547, rel=1e-3)
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
