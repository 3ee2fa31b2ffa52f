"""The resultstore schema, the same in CSV, SQLite and MySQL, and object identities.

Every object has a text key, so that data moves between stores with equal
fidelity:

- sut: its name; a SUT whose hardware fingerprint changed gets `name~2`, ...
- swprofile: its name; the same name with other content (kernel release or
  file, git sha, userspace, cmdline, sysctl, bootscript) gets `name~2`, ...
  Results of different software are never mixed under one ID.
- benchmark: `suite/name@<first 12 hex of the params hash>`.
- result: unique by (session_id, benchmark, resultclass, repeat); error by
  (session_id, benchmark, phase, idx). Publishing the same job twice adds
  nothing. Both carry the plan and job they came from, and when the job's
  results were collected (`timestamp`, UTC, `YYYY-MM-DDTHH:MM:SSZ`).

Versions (`meta.version`): 1 had no result timestamp, no plan or job on
errors, no modules in a swprofile and no index on the plan; a store of
version 1 is upgraded when opened (`UPGRADES`).
"""

from __future__ import annotations

import hashlib
import json

VERSION = 2
MARK = "fastpath-resultstore"

TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "sut": ("id", "name", "host_name", "architecture", "cpu_count", "cpu_model", "product_name",
            "hw_hash", "fingerprint"),
    "swprofile": ("id", "name", "kernel_name", "kernel_git_sha", "kernel_digest", "userspace",
                  "cmdline", "sysctl", "bootscript", "content_hash", "modules_digest"),
    "benchmark": ("id", "suite", "name", "type", "image", "params_hash", "params"),
    "resultclass": ("benchmark", "name", "unit", "improvement"),
    "result": ("session_id", "benchmark", "resultclass", "repeat", "value", "sut", "swprofile",
               "job_id", "plan_id", "timestamp"),
    "error": ("session_id", "benchmark", "phase", "idx", "timestamp", "sut", "swprofile", "code",
              "message", "job_id", "plan_id"),
}
# The columns each version added, per table; an upgrade adds them (empty for old rows).
UPGRADES: dict[int, dict[str, tuple[str, ...]]] = {
    2: {"swprofile": ("modules_digest",), "result": ("timestamp",), "error": ("job_id", "plan_id")},
}
# SQLite's statistics join each session's results to its means, so its index ends in session_id;
# MariaDB aggregates in one pass, and its key length (3072 bytes) has no room for a fourth column.
INDEXES = {"result_plan": ("result", ("plan_id",))}
SQLITE_INDEXES = {"result_sessions": ("result", ("benchmark", "resultclass", "swprofile", "session_id"))}
MYSQL_INDEXES = {"result_group": ("result", ("benchmark", "resultclass", "swprofile"))}
SQLITE_DROPPED = ("result_group",)  # version 1's, replaced by result_sessions
KEYS = {"sut": ("id",), "swprofile": ("id",), "benchmark": ("id",),
        "resultclass": ("benchmark", "name"), "result": ("session_id", "benchmark", "resultclass", "repeat"),
        "error": ("session_id", "benchmark", "phase", "idx"), "meta": ("key",)}
OBJECTS = ("sut", "swprofile", "benchmark", "resultclass")
INTEGER = {"cpu_count", "repeat", "idx", "code", "job_id", "plan_id"}
LONG = {"fingerprint", "params", "message", "cmdline", "sysctl", "bootscript"}


def column_type(table: str, column: str) -> str:
    """int, real, long (unbounded text) or text (a short, indexable string)."""
    if column in INTEGER:
        return "int"
    if (table, column) == ("result", "value"):
        return "real"
    return "long" if column in LONG else "text"


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def digest(value) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def sut_row(sut: dict) -> dict:
    fp = sut.get("fingerprint") or {}
    hw = fp.get("HW") or {}
    return {"name": sut["name"], "host_name": hw.get("host_name"), "architecture": hw.get("architecture"),
            "cpu_count": hw.get("cpu_count"), "cpu_model": hw.get("cpu_model"),
            "product_name": hw.get("product_name"), "hw_hash": digest(hw), "fingerprint": canonical(fp)}


def columns_of(table: str, version: int) -> tuple[str, ...]:
    """The columns `table` had in resultstore version `version`."""
    added = {c for v, tables in UPGRADES.items() if v > version for c in tables.get(table, ())}
    return tuple(c for c in TABLES[table] if c not in added)


def swprofile_row(sw: dict) -> dict:
    row = {"name": sw["name"], "kernel_name": sw.get("kernel_name"),
           "kernel_git_sha": sw.get("kernel_git_sha"), "kernel_digest": sw.get("kernel_digest"),
           "userspace": sw.get("userspace"),
           "cmdline": " ".join(sw.get("cmdline") or []) or None,
           "sysctl": " ".join(sw.get("sysctl") or []) or None, "bootscript": sw.get("bootscript"),
           "modules_digest": sw.get("modules_digest")}
    row["content_hash"] = content_hash(row)
    return row


def content_hash(row: dict) -> str:
    """The hash of a swprofile's kernel, modules, cmdline, sysctl, userspace and bootscript.

    Without modules the hash is the one version 1 computed, so a store keeps
    recognising the swprofiles it holds.
    """
    content = {k: v for k, v in row.items() if k not in ("name", "id", "content_hash")}
    if content.get("modules_digest") is None:
        content.pop("modules_digest", None)
    return digest(content)


def benchmark_row(b: dict) -> dict:
    params = b.get("params") or {}
    h = digest(params)
    return {"id": f"{b['suite']}/{b['name']}@{h[:12]}", "suite": b["suite"], "name": b["name"],
            "type": b.get("type", "container"), "image": b.get("image"), "params_hash": h,
            "params": canonical(params)}


SAME = {"sut": "hw_hash", "swprofile": "content_hash"}  # what makes two objects the same


def resolve(kind: str, row: dict, existing: list[dict]) -> tuple[str, bool]:
    """The ID `row` has in a store holding `existing` rows of `kind`; whether it is new.

    Identical content reuses the existing ID; a name already taken by other
    content gets the next free `name~N`.
    """
    key = SAME[kind]
    for other in existing:
        if other["name"] == row["name"] and other[key] == row[key]:
            return other["id"], False
    taken = {other["id"] for other in existing}
    candidate, n = row["name"], 1
    while candidate in taken:
        n += 1
        candidate = f"{row['name']}~{n}"
    return candidate, True
