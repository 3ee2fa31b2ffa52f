"""Raw samples out of a resultstore, and back in: `fastpath result export` and `result import`.

One record per sample, self-contained: its plan, job, session and repeat, the
swprofile (ID, content hash and content), the SUT (name and fingerprint), the
benchmark (suite/name, image, params), the metric and the value. Importing
turns each session's records back into the manifest a job would publish, so
identities (`name~N`) are decided the same way as for a publish.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from fastpath.errors import Invalid
from fastpath.results import schema
from fastpath.results.backend import Filters, ResultStore

COLUMNS = ("plan", "job", "session", "repeat", "swprofile", "swprofile_hash", "benchmark",
           "benchmark_id", "params", "metric", "unit", "improvement", "value", "sut",
           "sut_fingerprint", "timestamp", "swprofile_content", "benchmark_type", "image")
SW_CONTENT = ("name", "kernel_name", "kernel_git_sha", "kernel_digest", "modules_digest", "userspace",
              "cmdline", "sysctl", "bootscript")


def records(store: ResultStore, filters: Filters) -> list[dict]:
    sws = {r["id"]: r for r in store.rows("swprofile")}
    suts = {r["id"]: r for r in store.rows("sut")}
    benches = {r["id"]: r for r in store.rows("benchmark")}
    classes = {(r["benchmark"], r["name"]): r for r in store.rows("resultclass")}
    out = []
    for r in sorted(store.results(filters), key=lambda r: (r["plan_id"] or 0, r["job_id"] or 0,
                                                           r["session_id"], r["benchmark"],
                                                           r["resultclass"], r["repeat"])):
        sw, sut, b = sws[r["swprofile"]], suts[r["sut"]], benches[r["benchmark"]]
        rc = classes.get((r["benchmark"], r["resultclass"]), {})
        out.append({"plan": r["plan_id"], "job": r["job_id"], "session": r["session_id"],
                    "repeat": r["repeat"], "swprofile": sw["id"], "swprofile_hash": sw["content_hash"],
                    "benchmark": f"{b['suite']}/{b['name']}", "benchmark_id": b["id"],
                    "params": b["params"], "metric": r["resultclass"], "unit": rc.get("unit"),
                    "improvement": rc.get("improvement"), "value": r["value"], "sut": sut["name"],
                    "sut_fingerprint": sut["fingerprint"], "timestamp": r["timestamp"],
                    "swprofile_content": schema.canonical({k: sw.get(k) for k in SW_CONTENT}),
                    "benchmark_type": b["type"], "image": b["image"]})
    return out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if r[c] is None else repr(r[c]) if isinstance(r[c], float) else r[c]
                    for c in COLUMNS])
    return buf.getvalue()


def from_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise Invalid(f"not a fastpath result export: columns {reader.fieldnames}")
    out = []
    for r in reader:
        row: dict[str, Any] = {k: (v if v != "" else None) for k, v in r.items()}
        for k in ("plan", "job", "repeat"):
            row[k] = int(row[k]) if row[k] is not None else None
        row["value"] = float(row["value"])
        out.append(row)
    return out


def manifests(rows: Iterable[dict]) -> list[dict]:
    """One manifest per session of exported records."""
    by_session: dict[str, list[dict]] = {}
    for r in rows:
        by_session.setdefault(r["session"], []).append(r)
    out = []
    for sid, rs in by_session.items():
        first = rs[0]
        sw = json.loads(first["swprofile_content"])
        sw["cmdline"] = sw["cmdline"].split(" ") if sw.get("cmdline") else []
        sw["sysctl"] = sw["sysctl"].split(" ") if sw.get("sysctl") else []
        benches: dict[str, int] = {}
        blist: list[dict] = []
        for r in rs:
            if r["benchmark_id"] not in benches:
                benches[r["benchmark_id"]] = len(blist)
                suite, _, name = r["benchmark"].partition("/")
                blist.append({"suite": suite, "name": name, "type": r["benchmark_type"],
                              "image": r["image"], "params": json.loads(r["params"])})
        out.append({"format": 1, "plan_id": first["plan"], "job_id": first["job"], "session_id": sid,
                    "collected_at": first["timestamp"],
                    "sut": {"name": first["sut"], "fingerprint": json.loads(first["sut_fingerprint"])},
                    "swprofile": sw, "benchmarks": blist, "errors": [],
                    "results": [{"benchmark": benches[r["benchmark_id"]], "repeat": r["repeat"],
                                 "resultclass": r["metric"], "unit": r["unit"],
                                 "improvement": r["improvement"], "value": r["value"]} for r in rs]})
    return out
