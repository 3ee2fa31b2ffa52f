"""What the benchmarks share: statistics, a table, a real scheduler, test SUTs.

The benchmarks run as `.venv/bin/python bench/NAME.py`, so this directory is
on `sys.path`; the repository root is added so that they reuse the end-to-end
tests' `Scheduler` (a real `fastpath sched run` in its own process group).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.scheduler import Scheduler  # noqa: E402

# Our test SUTs live on 127.0.10.x, apart from the tests' and the other benches'.
SUT_NET = "127.0.10."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports on 127.0.0.1 (for testbed SUTs)."""
    for _ in range(50):
        base = free_port()
        if base + count > 65000:
            continue
        ok = True
        for p in range(base, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no run of free ports")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


@contextlib.contextmanager
def scheduler(workdir: Path, *, extra: list[str] | None = None,
              env: dict | None = None) -> Iterator[Scheduler]:
    """A started `fastpath sched run` on SQLite in `workdir` (sutclasses.yaml must be there)."""
    sched = Scheduler(workdir, extra=extra)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})  # its CLI children see the same environment
    try:
        sched.start()
        yield sched
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if sched.proc is not None:
            try:
                sched.stop(signal.SIGTERM, timeout=15)
            finally:
                if sched.proc.poll() is None or sched.group_alive():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(sched.proc.pid, signal.SIGKILL)


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")


def proc_status(pid: int, field: str) -> int:
    """A kB figure from /proc/PID/status (VmHWM, VmRSS), 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (via /proc/*/stat), for finding gunicorn's workers."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""
