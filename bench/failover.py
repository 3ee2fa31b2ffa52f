"""Issue 12 item 9: how soon the lead moves after a leader dies, with the default tuning.

    .venv/bin/python bench/failover.py [--quick]

Two `fastpath sched controller` processes on a scratch PostgreSQL database
(FASTPATH_TUNING unset: ttl 4, renew 1, standby 0.5). Measured from the signal
to the leader row naming the other controller:
- SIGKILL: the holder is provably dead (same host, pid gone), taken at once;
- SIGSTOP: the holder lives but is frozen, as a leader on another host that
  cannot be proven dead: the lead must expire (target <= 5 s).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import harness

from tests.databases import scratch_database
from tests.e2e.scheduler import FASTPATH
from tests.e2e.test_ha import Process, sql


def holder(url: str) -> str | None:
    try:
        rows = sql(url, "SELECT holder FROM leader")
    except Exception:  # noqa: BLE001 (schema not made yet)
        return None
    return rows[0][0] if rows else None


def main() -> None:
    rounds = 2 if "--quick" in sys.argv else 5
    os.environ.pop("FASTPATH_TUNING", None)
    work = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    (work / "sutclasses.yaml").write_text("[]\n")
    results: dict[str, list[float]] = {"SIGKILL": [], "SIGSTOP": []}
    with scratch_database("postgresql", str(work)) as url:
        argv = [*FASTPATH, "sched", "controller", "--database", url, "--storage",
                str(work / "storage"), "--sutclasses", str(work / "sutclasses.yaml")]
        procs = [Process(work, f"c{i}", argv, tuning="") for i in range(2)]
        try:
            for n in range(rounds * 2):
                sig = signal.SIGKILL if n % 2 == 0 else signal.SIGSTOP
                harness.wait_for(lambda: any(p.holds(holder(url)) for p in procs), 60, what="a leader")
                time.sleep(1.5)  # a settled lead, renewed a few times
                active = next(p for p in procs if p.holds(holder(url)))
                start = time.monotonic()
                active.signal(sig)
                harness.wait_for(lambda a=active: holder(url) and not a.holds(holder(url)), 60,
                                 interval=0.01, what="the take-over")
                results[sig.name].append(time.monotonic() - start)
                active.stop()
                procs[procs.index(active)] = Process(work, f"c{n + 2}", argv, tuning="")
        finally:
            for p in procs:
                p.stop()
    print(f"machine: {harness.machine()}")
    harness.table(["leader gets", "rounds", "median s", "max s"],
                  [[k, len(v), f"{harness.median(v):.2f}", f"{max(v):.2f}"] for k, v in results.items()])


if __name__ == "__main__":
    main()
