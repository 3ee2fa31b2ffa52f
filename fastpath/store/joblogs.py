"""What a job left in `--storage`: its driver's log and its failed runs' exit and output.

Read by record ids only: the directory is `Storage.job_dir(plan, job)`, and
each run's directory is rebuilt from a run number the manifest gives, never
from a path anybody wrote. Regular files only (a symlink is not followed),
and only their end, so a huge log costs a bounded read.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from fastpath.store.files import Storage

TAIL_BYTES = 64 * 1024
RUN_LOG = re.compile(r"^runs/(\d{4})/output\.log$")


def tail(path: Path, lines: int) -> list[str] | None:
    """The last `lines` lines of a regular file (None if there is none)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > TAIL_BYTES:
            f.seek(st.st_size - TAIL_BYTES)
        text = f.read(TAIL_BYTES).decode(errors="replace")
    return text.splitlines()[-lines:] if lines > 0 else []


def _manifest(d: Path) -> dict | None:
    got = tail(d / "manifest.json", 10**6)
    if got is None:
        return None
    try:
        doc = json.loads("\n".join(got))
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def job_log(storage: Storage, plan_id: int, job_id: int, *, lines: int = 20) -> dict:
    """The job's collected log: `collected` (whether its files are there), the driver's
    log, and each failed run with its benchmark, exit status, message and last lines."""
    d = storage.job_dir(plan_id, job_id)
    manifest = _manifest(d)
    benchmarks = (manifest or {}).get("benchmarks") or []
    runs = []
    for e in (manifest or {}).get("errors") or []:
        m = RUN_LOG.match(str(e.get("log", "")))
        run_dir = d / "runs" / m.group(1) if m else None
        exit_text = tail(run_dir / "exit", 1) if run_dir else None
        b = benchmarks[e["benchmark"]] if isinstance(e.get("benchmark"), int) and \
            0 <= e["benchmark"] < len(benchmarks) else {}
        runs.append({
            "benchmark": f"{b.get('suite')}/{b.get('name')}" if b else None,
            "phase": e.get("phase"), "index": e.get("index"), "code": e.get("code"),
            "exit": exit_text[0].strip() if exit_text else None,
            "message": e.get("message"),
            "output": tail(run_dir / "output.log", lines) if run_dir else None,
        })
    return {"collected": manifest is not None, "driver_log": tail(d / "driver.log", 200),
            "failed_runs": runs}
