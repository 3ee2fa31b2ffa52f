"""The plan schema, includes, durations, splitting and modules archives."""

from __future__ import annotations

import copy
import io
import tarfile

import pytest

from fastpath.errors import InputError
from fastpath.plan.durations import format_duration, parse_duration
from fastpath.plan.schema import (
    check_bootless,
    load_plan_file,
    modules_release,
    path_fields,
    validate,
)
from fastpath.plan.split import JobSpec, Run, runs, split

GUIDE = {
    "sut": {"sutclass": "demo"},
    "swprofiles": [{"name": "baseline", "kernel": "/path/to/Image", "modules": "/path/to/modules.tar.xz"}],
    "benchmarks": [{"include": "speedometer/v2.1.yaml"}, {"include": "mmtests/kernbench.yaml"}],
    "defaults": {"benchmark": {"warmups": 1, "repeats": 3, "sessions": 3, "timeout": "1h"}},
}
INLINE = {"suite": "testing", "name": "busyloop", "type": "container",
          "image": "localhost/fastpath-bench-busyloop:1", "params": {"duration": 0.1}}


def test_the_guides_plan_normalises():
    plan = validate(copy.deepcopy(GUIDE), source="p.yaml")
    assert plan["sut"] == {"sutclass": "demo", "name": None, "placement": "spread"}
    same = validate({**copy.deepcopy(GUIDE), "sut": {"sutclass": "demo", "placement": "same"}}, source="p")
    assert same["sut"]["placement"] == "same" and validate(same, source="p") == same
    [sw] = plan["swprofiles"]
    assert sw == {"name": "baseline", "kernel": "/path/to/Image", "modules": "/path/to/modules.tar.xz",
                  "initrd": None, "bootscript": None, "cmdline": [], "sysctl": [], "kernel_git_sha": None}
    assert [(b["suite"], b["name"]) for b in plan["benchmarks"]] == [("speedometer", "v2.1"),
                                                                     ("mmtests", "kernbench")]
    assert all((b["warmups"], b["repeats"], b["sessions"], b["timeout"]) == (1, 3, 3, 3600.0)
               for b in plan["benchmarks"])
    assert validate(plan, source="again") == plan  # idempotent


def test_overrides_and_defaults():
    doc = {"sut": {"sutclass": "demo", "name": "my run"},
           "swprofiles": [{"name": "a", "cmdline": "quiet x=1"}],
           "benchmarks": [{**INLINE, "repeats": 5, "timeout": "90s"},
                          {"include": "sysbench/cpu.yaml", "params": {"threads": 2}, "sessions": 2}]}
    plan = validate(doc, source="p")
    first, second = plan["benchmarks"]
    assert (first["warmups"], first["repeats"], first["sessions"], first["timeout"]) == (0, 5, 1, 90.0)
    assert second["params"] == {"threads": 2, "max_prime": 10000, "time": 5}  # merged over the library's
    assert second["sessions"] == 2 and plan["swprofiles"][0]["cmdline"] == ["quiet", "x=1"]


def bad(path: str, value):
    doc = copy.deepcopy(GUIDE)
    keys = path.split(".")
    node = doc
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


BAD = [
    (bad("colour", "red"), "colour", "unknown field"),
    (bad("sut", {"name": "x", "connection": {"method": "SSH"}}), "sut.connection", "never a connection"),
    (bad("sut", {"name": "x"}), "sut.sutclass", "required"),
    (bad("sut.sutclass", "a b"), "sut.sutclass", "SUT class name"),
    (bad("sut.placement", "random"), "sut.placement", "expected one of spread, same, got 'random'"),
    (bad("sut.placement", ["same"]), "sut.placement", "expected one of spread, same"),
    (bad("swprofiles", []), "swprofiles", "non-empty list"),
    (bad("swprofiles.0.name", "x y"), "swprofiles[0].name", "letters"),
    (bad("swprofiles.0.name", KeyError), "swprofiles[0].name", "required"),
    (bad("swprofiles.0.kernel", 5), "swprofiles[0].kernel", "file path"),
    (bad("swprofiles.0.kernel", "a\nb"), "swprofiles[0].kernel", "file path"),
    (bad("swprofiles.0.cmdline", [5]), "swprofiles[0].cmdline[0]", "kernel parameter"),
    (bad("swprofiles.0.cmdline", ["fastpath.session=1"]), "swprofiles[0].cmdline[0]", "set by the scheduler"),
    (bad("swprofiles.0.sysctl", ["novalue"]), "swprofiles[0].sysctl[0]", "key=value"),
    (bad("swprofiles.0.kernel_git_sha", "xyz"), "swprofiles[0].kernel_git_sha", "git commit"),
    (bad("swprofiles.0.flavour", 1), "swprofiles[0].flavour", "unknown field"),
    (bad("swprofiles", [{"name": "a"}, {"name": "a"}]), "swprofiles[1].name", "duplicate swprofile"),
    (bad("benchmarks", "x"), "benchmarks", "non-empty list"),
    (bad("benchmarks.0", {"include": "../etc/x.yaml"}), "benchmarks[0].include", "library"),
    (bad("benchmarks.0", {"include": "/etc/passwd"}), "benchmarks[0].include", "library"),
    (bad("benchmarks.0", {"include": "speedometer/../../x.yaml"}), "benchmarks[0].include", "library"),
    (bad("benchmarks.0", {"include": "nope/none.yaml"}), "benchmarks[0].include", "no benchmark"),
    (bad("benchmarks.0", {**INLINE, "type": "vm"}), "benchmarks[0].type", "container"),
    (bad("benchmarks.0", {**INLINE, "image": "a b"}), "benchmarks[0].image", "image"),
    (bad("benchmarks.0", {**INLINE, "params": [1]}), "benchmarks[0].params", "mapping"),
    (bad("benchmarks.0", {**INLINE, "repeats": 0}), "benchmarks[0].repeats", "from 1 to 1000"),
    (bad("benchmarks.0", {**INLINE, "warmups": True}), "benchmarks[0].warmups", "integer"),
    (bad("benchmarks.0", {**INLINE, "timeout": "forever"}), "benchmarks[0].timeout", "duration"),
    (bad("benchmarks.0", {**INLINE, "timeout": "30d"}), "benchmarks[0].timeout", "limit"),
    (bad("benchmarks.0", {**INLINE, "timeout": 0}), "benchmarks[0].timeout", "at least 1s"),
    (bad("benchmarks", [INLINE, INLINE]), "benchmarks[1]", "same benchmark"),
    (bad("defaults.benchmark.sessions", 10**9), "defaults.benchmark.sessions", "from 1 to 100"),
    (bad("defaults.benchmark.speed", 1), "defaults.benchmark.speed", "unknown field"),
    (bad("defaults", {"benchmarks": {}}), "defaults.benchmarks", "unknown field"),
]


@pytest.mark.parametrize("doc, path, words", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_plans_are_named_precisely(doc, path, words):
    with pytest.raises(InputError) as err:
        validate(doc, source="plan.yaml")
    assert (err.value.source, err.value.path) == ("plan.yaml", path)
    assert words in err.value.problem


@pytest.mark.parametrize("doc", [None, [], "plan", 5])
def test_not_a_plan_at_all(doc):
    with pytest.raises(InputError, match="expected a mapping"):
        validate(doc, source="p")


def test_too_many_jobs():
    doc = bad("swprofiles", [{"name": f"s{i}"} for i in range(100)])
    doc["defaults"]["benchmark"]["sessions"] = 100
    doc["swprofiles"] = doc["swprofiles"] + [{"name": "extra"}]
    with pytest.raises(InputError, match="at most 100"):
        validate(doc, source="p")
    plan = validate({**doc, "swprofiles": doc["swprofiles"][:100]}, source="p")
    assert len(split(plan)) == 10_000


def test_path_fields_and_bootless_classes():
    plan = validate(bad("swprofiles.0.bootscript", "setup.sh"), source="p")
    assert path_fields(plan) == [("swprofiles[0].kernel", "/path/to/Image"),
                                 ("swprofiles[0].modules", "/path/to/modules.tar.xz"),
                                 ("swprofiles[0].bootscript", "setup.sh")]
    with pytest.raises(InputError, match="boots nothing"):
        check_bootless(plan, source="p")
    check_bootless(validate(bad("swprofiles", [{"name": "a", "sysctl": ["vm.swappiness=1"]}]),
                            source="p"), source="p")


def test_load_plan_file_resolves_relative_paths(tmp_path):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "Image").write_bytes(b"x")
    plan = tmp_path / "plan.yaml"
    plan.write_text("sut: {sutclass: demo}\nswprofiles:\n  - name: a\n    kernel: k/Image\n"
                    "benchmarks:\n  - include: testing/busyloop.yaml\n")
    doc, files = load_plan_file(plan)
    assert doc["swprofiles"][0]["kernel"] == "k/Image"  # sent as written
    assert files == {"swprofiles[0].kernel": tmp_path / "k" / "Image"}
    plan.write_text(plan.read_text().replace("k/Image", "missing"))
    with pytest.raises(InputError, match="swprofiles\\[0\\].kernel: no such file"):
        load_plan_file(plan)
    plan.write_text("sut: [unclosed\n")
    with pytest.raises(InputError, match="line 2, column 1: malformed YAML") as err:
        load_plan_file(plan)
    assert str(err.value).startswith(str(plan))


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("1h", 3600), ("1h30m", 5400),
                                           ("2d", 172800), (45, 45), ("0.5s", 0.5), ("120", 120)])
def test_durations(text, seconds):
    assert parse_duration(text, source="s", path="p") == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "-5s", True, [1], "1h 2", "h1"])
def test_bad_durations(text):
    with pytest.raises(InputError, match="duration"):
        parse_duration(text, source="s", path="p")


def test_format_duration():
    assert [format_duration(s) for s in (3600, 5400, 45, 0.5, 0)] == ["1h", "1h30m", "45s", "0.5s", "0s"]


def sessions_plan(swprofiles: int, sessions: list[int], warmups=1, repeats=2) -> dict:
    return validate({"sut": {"sutclass": "d"}, "swprofiles": [{"name": f"p{i}"} for i in range(swprofiles)],
                     "benchmarks": [{**INLINE, "params": {"n": i}, "sessions": s}
                                    for i, s in enumerate(sessions)],
                     "defaults": {"benchmark": {"warmups": warmups, "repeats": repeats}}}, source="p")


@pytest.mark.parametrize("swprofiles, sessions, expected", [
    (1, [1], [(1, 0)]),
    (2, [3], [(1, 0), (1, 1), (2, 1), (2, 0), (3, 0), (3, 1)]),  # A B, B A, A B
    (2, [1, 2], [(1, 0), (1, 1), (2, 1), (2, 0)]),
    (3, [2, 1], [(1, 0), (1, 1), (1, 2), (2, 2), (2, 1), (2, 0)]),
])
def test_split_session_by_session_alternating(swprofiles, sessions, expected):
    plan = sessions_plan(swprofiles, sessions)
    assert [(j.session, j.swprofile) for j in split(plan)] == expected


def test_runs_of_a_job():
    plan = sessions_plan(1, [2, 1], warmups=1, repeats=2)
    assert runs(plan, JobSpec(1, 0)) == [Run(0, "warmup", 0), Run(0, "repeat", 0), Run(0, "repeat", 1),
                                         Run(1, "warmup", 0), Run(1, "repeat", 0), Run(1, "repeat", 1)]
    assert runs(plan, JobSpec(2, 0)) == [Run(0, "warmup", 0), Run(0, "repeat", 0), Run(0, "repeat", 1)]


def _tar(path, names, mode):
    with tarfile.open(path, mode) as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return path


@pytest.mark.parametrize("mode, suffix", [("w", ".tar"), ("w:gz", ".tar.gz"), ("w:xz", ".tar.xz")])
def test_modules_release(tmp_path, mode, suffix):
    path = _tar(tmp_path / f"m{suffix}", ["./lib/modules/6.19.0-rc1+/kernel/x.ko"], mode)
    assert modules_release(path) == "6.19.0-rc1+"
    assert modules_release(_tar(tmp_path / f"n{suffix}", ["etc/x"], mode)) is None
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a tar")
    with pytest.raises(InputError, match="not a readable tar archive"):
        modules_release(junk)
