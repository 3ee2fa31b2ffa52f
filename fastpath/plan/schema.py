"""The plan schema: validate a plan and return it normalised.

Every error is an `InputError(source, path, problem)` whose path points into
the plan (`swprofiles[1].kernel`, `benchmarks[0].params`). The normal form
has every include resolved, every default applied and every key present, is
JSON-serialisable, and validating it again gives it back unchanged (the
server re-validates what clients send). Scheduled plans name a SUT class,
never a connection: SUTs come only from the scheduler's configuration.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

from fastpath import safeyaml
from fastpath.errors import InputError
from fastpath.plan.durations import parse_duration
from fastpath.plan.library import load_include

PATH_FIELDS = ("kernel", "modules", "initrd", "bootscript")
RUN_CONTROL = {"warmups": (0, 100), "repeats": (1, 1000), "sessions": (1, 100)}
DEFAULTS = {"warmups": 0, "repeats": 1, "sessions": 1, "timeout": 3600.0}
MAX_TIMEOUT = 7 * 86400.0
MAX_SWPROFILES, MAX_BENCHMARKS, MAX_JOBS = 100, 100, 10_000
MAX_PARAMS = 64 * 1024  # bytes of JSON
SPREAD = "spread"
PLACEMENTS = (SPREAD, "same")  # how the allocator places a plan's jobs (core.schedule.placing)

SWPROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,255}$")
SYSCTL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}=[^\n\r\x00]{0,1000}$")
GIT_SHA = re.compile(r"^[0-9a-f]{7,40}$")
SWPROFILE_KEYS = {"name", *PATH_FIELDS, "cmdline", "sysctl", "kernel_git_sha"}
BENCHMARK_KEYS = {"suite", "name", "type", "image", "params", *RUN_CONTROL, "timeout"}


class _Where:
    """Builds errors for one document."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> InputError:
        return InputError(self.source, path, problem)

    def mapping(self, value: Any, path: str, allowed: set[str], required: tuple = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(where, f"unknown field; known: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in value:
                raise self.fail(f"{path}.{key}" if path else key, "required field is missing")
        return value

    def text(self, value: Any, path: str, pattern: re.Pattern | None = None, what: str = "") -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"expected {what or 'a non-empty string'}, got {_kind(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, f"expected {what}, got {value[:80]!r}")
        return value


def _kind(value: Any) -> str:
    """A short description of a wrong value, for error messages."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value[:40] if isinstance(value, str) else value)[:60]


def validate(doc: Any, *, source: str) -> dict:
    """The normalised plan, or InputError naming the place that is wrong."""
    w = _Where(source)
    doc = w.mapping(doc, "", {"sut", "swprofiles", "benchmarks", "defaults"},
                    ("sut", "swprofiles", "benchmarks"))
    sut = _sut(w, doc["sut"])
    defaults = _defaults(w, doc.get("defaults"))
    swprofiles = _list(w, doc["swprofiles"], "swprofiles", MAX_SWPROFILES)
    swprofiles = [_swprofile(w, s, f"swprofiles[{i}]") for i, s in enumerate(swprofiles)]
    seen: dict[str, int] = {}
    for i, s in enumerate(swprofiles):
        if s["name"] in seen:
            raise w.fail(f"swprofiles[{i}].name", f"duplicate swprofile name {s['name']!r} "
                                                   f"(also swprofiles[{seen[s['name']]}])")
        seen[s["name"]] = i
    benchmarks = _list(w, doc["benchmarks"], "benchmarks", MAX_BENCHMARKS)
    benchmarks = [_benchmark(w, b, f"benchmarks[{i}]", defaults) for i, b in enumerate(benchmarks)]
    identities: dict[tuple, int] = {}
    for i, b in enumerate(benchmarks):
        key = (b["suite"], b["name"], json.dumps(b["params"], sort_keys=True))
        if key in identities:
            raise w.fail(f"benchmarks[{i}]", f"the same benchmark {b['suite']}/{b['name']} with the "
                                             f"same params as benchmarks[{identities[key]}]")
        identities[key] = i
    sessions = max(b["sessions"] for b in benchmarks)
    if len(swprofiles) * sessions > MAX_JOBS:
        raise w.fail("benchmarks", f"{len(swprofiles)} swprofiles x {sessions} sessions is more than "
                                   f"{MAX_JOBS} jobs")
    return {"sut": sut, "swprofiles": swprofiles, "benchmarks": benchmarks,
            "defaults": {"benchmark": defaults}}


def _list(w: _Where, value: Any, path: str, most: int) -> list:
    if not isinstance(value, list) or not value:
        raise w.fail(path, f"expected a non-empty list, got {_kind(value)}")
    if len(value) > most:
        raise w.fail(path, f"at most {most} entries, got {len(value)}")
    return value


def _sut(w: _Where, value: Any) -> dict:
    if isinstance(value, dict) and "connection" in value:
        raise w.fail("sut.connection", "a scheduled plan names a SUT class (sut: {sutclass: NAME}), "
                                       "never a connection: SUTs come only from the scheduler's "
                                       "configuration")
    sut = w.mapping(value, "sut", {"sutclass", "name", "placement"}, ("sutclass",))
    name = sut.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 255 or "\n" in name):
        raise w.fail("sut.name", "expected a short one-line name")
    placement = sut.get("placement", SPREAD)
    if placement not in PLACEMENTS:
        raise w.fail("sut.placement", f"expected one of {', '.join(PLACEMENTS)}, got {_kind(placement)} "
                                      "(spread: each SUT runs each swprofile equally often; same: "
                                      "every job on the SUT that took the first)")
    return {"sutclass": w.text(sut["sutclass"], "sut.sutclass", WORD, "a SUT class name"),
            "name": name, "placement": placement}


def _count(w: _Where, value: Any, path: str, key: str) -> int:
    lo, hi = RUN_CONTROL[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise w.fail(path, f"expected an integer from {lo} to {hi}, got {_kind(value)}")
    return value


def _timeout(w: _Where, value: Any, path: str) -> float:
    seconds = parse_duration(value, source=w.source, path=path, maximum=MAX_TIMEOUT)
    if seconds < 1:
        raise w.fail(path, "a timeout must be at least 1s")
    return seconds


def _run_control(w: _Where, doc: dict, path: str, base: dict) -> dict:
    out = dict(base)
    for key in RUN_CONTROL:
        if key in doc:
            out[key] = _count(w, doc[key], f"{path}.{key}", key)
    if "timeout" in doc:
        out["timeout"] = _timeout(w, doc["timeout"], f"{path}.timeout")
    return out


def _defaults(w: _Where, value: Any) -> dict:
    if value is None:
        return dict(DEFAULTS)
    doc = w.mapping(value, "defaults", {"benchmark"})
    bench = w.mapping(doc.get("benchmark") or {}, "defaults.benchmark", {*RUN_CONTROL, "timeout"})
    return _run_control(w, bench, "defaults.benchmark", DEFAULTS)


def _path_field(w: _Where, value: Any, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 4096 or any(c in value for c in "\n\r\x00"):
        raise w.fail(path, f"expected a file path, got {_kind(value)}")
    return value


def _swprofile(w: _Where, value: Any, path: str) -> dict:
    doc = w.mapping(value, path, SWPROFILE_KEYS, ("name",))
    out: dict[str, Any] = {"name": w.text(doc["name"], f"{path}.name", SWPROFILE_NAME,
                                          "a name of letters, digits, '.', '_', '+' or '-'")}
    for key in PATH_FIELDS:
        out[key] = None if doc.get(key) is None else _path_field(w, doc[key], f"{path}.{key}")
    cmdline = doc.get("cmdline") or []
    if isinstance(cmdline, str):
        cmdline = cmdline.split()
    if not isinstance(cmdline, list):
        raise w.fail(f"{path}.cmdline", f"expected a list of strings, got {_kind(cmdline)}")
    for i, arg in enumerate(cmdline):
        if not isinstance(arg, str) or not arg or len(arg) > 1024 or any(c in arg for c in "\n\r\x00"):
            raise w.fail(f"{path}.cmdline[{i}]", f"expected a kernel parameter, got {_kind(arg)}")
        if arg.startswith("fastpath.session="):
            raise w.fail(f"{path}.cmdline[{i}]", "fastpath.session= is set by the scheduler")
    out["cmdline"] = list(cmdline)
    sysctl = doc.get("sysctl") or []
    if not isinstance(sysctl, list):
        raise w.fail(f"{path}.sysctl", f"expected a list of key=value strings, got {_kind(sysctl)}")
    for i, entry in enumerate(sysctl):
        w.text(entry, f"{path}.sysctl[{i}]", SYSCTL, "key=value, e.g. vm.swappiness=10")
    out["sysctl"] = list(sysctl)
    sha = doc.get("kernel_git_sha")
    out["kernel_git_sha"] = None if sha is None else w.text(
        sha, f"{path}.kernel_git_sha", GIT_SHA, "a git commit id (7 to 40 hex digits)")
    return out


def _benchmark(w: _Where, value: Any, path: str, defaults: dict) -> dict:
    if isinstance(value, dict) and "include" in value:
        doc = w.mapping(value, path, {"include", "params", *RUN_CONTROL, "timeout"})
        base = load_include(doc["include"], source=w.source, path=f"{path}.include")
        overrides = {k: v for k, v in doc.items() if k != "include"}
        if "params" in overrides:  # included params, some of them overridden
            given = _params(w, overrides["params"], f"{path}.params")
            overrides["params"] = {**(base.get("params") or {}), **given}
        value = {**base, **overrides}
        where = f"{path} ({doc['include']})"
    else:
        where = path
    doc = w.mapping(value, path, BENCHMARK_KEYS, ("suite", "name", "type", "image"))
    if doc["type"] != "container":
        raise w.fail(f"{where}.type", f"expected container, got {_kind(doc['type'])}")
    out = {
        "suite": w.text(doc["suite"], f"{where}.suite", WORD, "a suite name"),
        "name": w.text(doc["name"], f"{where}.name", WORD, "a benchmark name"),
        "type": "container",
        "image": w.text(doc["image"], f"{where}.image", IMAGE, "a container image name"),
        "params": _params(w, doc.get("params") or {}, f"{where}.params"),
    }
    out.update(_run_control(w, doc, where, defaults))
    return out


def _params(w: _Where, value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise w.fail(path, f"expected a mapping of parameters, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise w.fail(path, f"parameter names must be strings, got {key!r}")
    try:
        size = len(json.dumps(value, sort_keys=True))
    except (TypeError, ValueError) as exc:
        raise w.fail(path, f"parameters must be plain values: {exc}") from exc
    if size > MAX_PARAMS:
        raise w.fail(path, f"parameters larger than {MAX_PARAMS} bytes")
    return value


def path_fields(plan: dict) -> list[tuple[str, str]]:
    """(field path, value) of every file a plan refers to, in plan order."""
    return [(f"swprofiles[{i}].{key}", sw[key])
            for i, sw in enumerate(plan["swprofiles"]) for key in PATH_FIELDS if sw.get(key)]


def check_bootless(plan: dict, *, source: str) -> None:
    """A class with `boot: none` boots nothing: no kernel, modules, initrd or cmdline."""
    for i, sw in enumerate(plan["swprofiles"]):
        for key in ("kernel", "modules", "initrd", "cmdline"):
            if sw.get(key):
                raise InputError(source, f"swprofiles[{i}].{key}",
                                 f"the SUT class boots nothing (boot: none), so a swprofile cannot "
                                 f"give a {key}")


def load_plan_file(path: str | Path) -> tuple[dict, dict[str, Path]]:
    """Read a plan file for submission: (the document as written, {field path: local file}).

    The document is validated here so mistakes are named before anything is
    uploaded; relative file paths resolve against the plan file's directory.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, "", f"cannot read: {exc}") from exc
    doc = safeyaml.load(text, source)
    plan = validate(doc, source=source)
    files = {}
    for field, value in path_fields(plan):
        local = (path.parent / value).expanduser()
        if not local.is_file():
            raise InputError(source, field, f"no such file: {local}")
        files[field] = local.resolve()
    return doc, files


MODULES = re.compile(r"^(?:\./)?lib/modules/([^/]+)/")


def modules_release(path: Path) -> str | None:
    """The <release> of a modules archive holding lib/modules/<release>/ (tar, .gz or .xz)."""
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                m = MODULES.match(member.name + ("/" if member.isdir() else ""))
                if m:
                    return m.group(1)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(str(path), "", f"not a readable tar archive of modules: {exc}") from exc
    return None
