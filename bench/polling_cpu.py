"""What watching long-running jobs costs: controller and sshd CPU while 50 jobs run (issue 5).

    .venv/bin/python bench/polling_cpu.py [--quick] [--suts 50] [--minutes 2]
    .venv/bin/python bench/polling_cpu.py --idle [--suts 5] [--minutes 1]

`--idle` measures only the scheduler with nothing to do (issue 15: the idle
controller at most 0.5 % of a core; it blocks on the change watcher between
its timed passes instead of polling the change counter): the controller's
and the API's CPU over the window, no plan.

50 testbed sshd's on 127.0.12.x (each its own SUT; the scheduler would also
accept distinct SUT names on one host:port, but one sshd per SUT is what a
lab has), class `demo` with `boot: none`, a real `fastpath sched run` with
default tuning. One plan of 50 jobs whose busyloop container sleeps longer
than the measurement (so it costs no CPU itself). Once all 50 are running
and the poll interval has settled (job_poll_max), CPU seconds are sampled
from /proc/PID/stat (utime + stime) of the `fastpath sched controller` child,
of the API child, and of every sshd of ours (listeners and their sessions),
over the window; the controller's CPU with no job at all is measured first
(1 minute) for comparison. SSH commands per minute are counted from the jobs' recorded polls (each
poll is one command on the SUT's open connection). Everything is then cancelled, the containers
removed and the sshd's stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sched_lab import FINAL, Lab, children, cmdline, cpu_seconds  # noqa: E402


def our_sshds(root: Path) -> list[int]:
    mine = str(root).encode()
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"sshd" in cmd and (mine in cmd or b"sshd:" in cmd):
                out.append(int(entry))
    return out


def sshd_tree(root: Path, listeners: list[int]) -> list[int]:
    """Our listeners and all their descendants (session sshd's, shells, podman clients)."""
    todo, seen = list(listeners), set(listeners)
    while todo:
        for c in children(todo.pop()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return sorted(seen)


def sample(pids: list[int], reaped: bool = False) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid, reaped=reaped)
        except (OSError, IndexError, ValueError):
            pass
    return out


def idle_only(count: int, window: float) -> None:
    with tempfile.TemporaryDirectory(prefix="fp-bench-idle-") as tmp:
        lab = Lab(Path(tmp), count, prefix="pi", net="127.0.21")
        try:
            lab.wait_healthy(120)
            time.sleep(5)  # the first probes and passes are over
            c0, t = lab.cpu(), time.monotonic()
            time.sleep(window)
            c1, elapsed = lab.cpu(), time.monotonic() - t
        finally:
            lab.close()
    print(f"polling_cpu --idle: {count} healthy SUTs, nothing queued, window {elapsed:.0f}s")
    for verb in ("controller", "api"):
        used = c1.get(verb, 0.0) - c0.get(verb, 0.0)
        print(f"{verb:10s} idle {used / elapsed * 100:5.2f}% of one core"
              + (" (target <= 0.5%)" if verb == "controller" else ""))
    print(f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 SUTs, 30 s window")
    parser.add_argument("--idle", action="store_true", help="only the idle scheduler (5 SUTs, 1 min)")
    parser.add_argument("--suts", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--settle", type=float, help="seconds to let polling slow down first "
                        "(default 130: the poll interval grows to job_poll_max=30s after ~2 min)")
    args = parser.parse_args()
    if args.idle:
        idle_only(args.suts or 5, 60 * (args.minutes or 1.0))
        return
    count = args.suts or (10 if args.quick else 50)
    window = 60 * (args.minutes or (0.5 if args.quick else 2.0))
    settle = args.settle if args.settle is not None else (20 if args.quick else 130)
    sleep = int(settle + window + 120)
    print(f"polling_cpu: {count} jobs sleeping {sleep}s on {count} SUTs, settle {settle:.0f}s, "
          f"window {window:.0f}s, default tuning")
    with tempfile.TemporaryDirectory(prefix="fp-bench-poll-") as tmp:
        lab = Lab(Path(tmp), count, prefix="pc", net="127.0.12")
        plan = None
        try:
            lab.wait_healthy(120)
            ctl = [p for p in children(lab.sched.proc.pid) if " controller" in cmdline(p)]
            api = [p for p in children(lab.sched.proc.pid) if " api" in cmdline(p)]
            if not ctl:
                raise SystemExit("no `fastpath sched controller` child found")
            idle_window = 15 if args.quick else 60  # the controller with nothing to do
            i0, t = sample(ctl), time.monotonic()
            time.sleep(idle_window)
            i1, idle_elapsed = sample(ctl), time.monotonic() - t
            idle = sum(i1[p] - i0.get(p, 0.0) for p in i1) / idle_elapsed
            plan = lab.submit("long", swprofiles=1, sessions=count, params={"duration": 0, "sleep": sleep})
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                running = lab.db.execute("SELECT COUNT(*) FROM job WHERE plan_id = ? AND step = 'run'",
                                         (plan,)).fetchone()[0]
                if running == count:
                    break
                time.sleep(1)
            else:
                raise SystemExit(f"only {running}/{count} jobs reached the run step in 300s")
            print(f"all {count} jobs running; settling {settle:.0f}s", flush=True)
            time.sleep(settle)
            listeners = [s.pid() for s in lab.bed.suts if s.pid()]
            polls0 = dict(lab.db.execute("SELECT id, due_at FROM job WHERE plan_id = ?", (plan,)))
            procs0 = sshd_tree(lab.bed.root, listeners)
            t0 = time.monotonic()
            c0, a0, s0 = sample(ctl), sample(api), sample(procs0, reaped=True)
            polls = 0
            end = t0 + window
            last = dict(polls0)
            while time.monotonic() < end:  # count polls: each one records a new due_at
                time.sleep(0.5)
                for id, due in lab.db.execute("SELECT id, due_at FROM job WHERE plan_id = ?", (plan,)):
                    if due != last.get(id):
                        polls += 1
                        last[id] = due
            elapsed = time.monotonic() - t0
            procs1 = sshd_tree(lab.bed.root, listeners)
            c1, a1, s1 = sample(ctl), sample(api), sample(procs1, reaped=True)
            states = [r[0] for r in lab.db.execute("SELECT state FROM job WHERE plan_id = ?", (plan,))]
            early = lab.ended_early(plan)
        finally:
            try:
                if plan is not None:
                    lab.sched.cli("sched", "plan-cancel", str(plan), check=False, timeout=30)
            finally:
                lab.close()
    minutes = elapsed / 60
    for line in early[:5]:
        print(f"ended before the window's end: {line}")
    ctl_cpu = sum(c1[p] - c0.get(p, 0.0) for p in c1)
    api_cpu = sum(a1[p] - a0.get(p, 0.0) for p in a1)
    # sshd's (and their session children) alive at both ends, plus those born during the window
    sshd_cpu = sum(s1[p] - s0.get(p, 0.0) for p in s1)
    print(f"window {elapsed:.0f}s; jobs still running at its end: "
          f"{sum(s in ('assigned', 'running') for s in states)}/{count} "
          f"(final: {sum(s in FINAL for s in states)})")
    print(f"controller idle (no jobs, before the plan) {idle * 60:6.2f} CPU s/min = "
          f"{idle * 100:5.2f}% of one core")
    print(f"controller  {ctl_cpu / minutes:6.2f} CPU s/min = {ctl_cpu / elapsed * 100:5.2f}% of one core"
          f" ({(ctl_cpu / elapsed - idle) * 100:.2f}% above idle)")
    print(f"api         {api_cpu / minutes:6.2f} CPU s/min = {api_cpu / elapsed * 100:5.2f}% of one core")
    print(f"sshd's      {sshd_cpu / minutes:6.2f} CPU s/min = {sshd_cpu / elapsed * 100:5.2f}% of one core "
          f"({len(procs1)} processes at the end; short-lived ones that ended inside the window "
          "are not counted; the commands' shells are, through their sshd's reaped-children time)")
    print(f"polls (one SSH command each) {polls / minutes:.0f}/min = {polls / minutes / count:.2f} per "
          f"job per minute; controller CPU per poll {ctl_cpu / max(polls, 1) * 1000:.1f} ms "
          f"({(ctl_cpu - idle * elapsed) / max(polls, 1) * 1000:.1f} ms above idle)")


if __name__ == "__main__":
    main()
