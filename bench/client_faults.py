"""Issue 12 items 1-2: how long the CLI takes to say a refused upload or a down server.

    .venv/bin/python bench/client_faults.py [--quick]

Prints the wall time of `plan-exec` with a wrong token and with a token that
lacks `exec` (a 200 MiB kernel; 20 MiB with --quick), and of `lease-acquire`
and `plan-exec` against a port nobody listens on. Targets: 2 s and about 10 s.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.scheduler import Scheduler, free_port  # noqa: E402
from tests.e2e.test_foundation import write_sutclasses  # noqa: E402
from tests.e2e.test_plans import plan_file  # noqa: E402


def timed(s: Scheduler, *args: str, token: str | None = None) -> tuple[float, int, str]:
    start = time.monotonic()
    done = s.cli(*args, token=token, check=False, timeout=900)
    return time.monotonic() - start, done.returncode, done.stderr.strip().splitlines()[-1]


def main() -> None:
    mib = 20 if "--quick" in sys.argv else 200
    workdir = Path(tempfile.mkdtemp(prefix="bench-client-faults-"))
    write_sutclasses(workdir)
    s = Scheduler(workdir)
    s.start()
    try:
        s.login()
        plan = plan_file(workdir)
        with (workdir / "Image").open("wb") as f:
            f.truncate(mib * 1024 * 1024)
        query = s.user("q", "query")
        down = f"http://127.0.0.1:{free_port()}"
        rows = [
            (f"plan-exec {mib} MiB, wrong token", timed(s, "sched", "plan-exec", str(plan),
                                                     token="fpt_wrong")),
            (f"plan-exec {mib} MiB, no exec", timed(s, "sched", "plan-exec", str(plan), token=query)),
            ("lease-acquire, down URL", timed(s, "sched", "lease-acquire", "demo", "--url", down)),
            ("lease-acquire --wait, down URL", timed(s, "sched", "lease-acquire", "demo", "--wait",
                                                     "--url", down)),
            ("plan-exec, down URL", timed(s, "sched", "plan-exec", str(plan), "--url", down)),
        ]
        print(f"{'case':34} {'seconds':>8} {'exit':>4}  last line")
        for name, (seconds, code, line) in rows:
            print(f"{name:34} {seconds:8.2f} {code:4d}  {line}")
    finally:
        s.stop(signal.SIGKILL)


if __name__ == "__main__":
    main()
