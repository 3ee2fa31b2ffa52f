"""What a job costs the scheduler beyond its benchmark (issues 4 and 5).

    .venv/bin/python bench/job_overhead.py [--quick] [--jobs N] [--parts a,b,c] [--tuning T]

(a) Per-job overhead on one SUT: a plan of trivial jobs (busyloop with zero
    work, 0 warmups, 1 repeat, one job after another on one SUT) run by a real
    `fastpath sched run`; for each job, from its record and the event log:
    assigned -> running (the connect step: connect, fingerprint, clear stale
    runs), running -> finished (prepare, start, poll, collect, cleanup), and
    the SUT's idle gap to the next job. Compared with a bare
    `ssh -i KEY -p PORT user@host true`, one paramiko connect + exec of `true`
    (issue 15's floor: a trivial job holds its SUT for at most 3x that) and a
    bare `podman run --rm` of the same container on the same machine, in the
    same run.
(s) The same on one SUT with the controller loop and the job runner
    in-process: the time of each recorded step and its SSH commands.
(b) Many trivial jobs over 20 SUTs (default 300 jobs, --jobs 1000 for the
    issue's full figure; --quick 60): throughput, and the scheduler's own
    overhead per job = (wall x SUTs - container time) / jobs, where container
    time is jobs x the median bare `podman run` of (a).
(c) One controller pass (`Controller.run_once()`, in-process, with the real
    job and publish workers) with 0, 10,000 and 100,000 finished jobs in the
    database (SQLite), 20 SUTs all busy with running jobs and 200 queued: the
    pass's time and that of each query it makes.

SUTs are testbed sshd's on 127.0.11.x (or $FASTPATH_TEST_NET.x), `boot: none`. FASTPATH_TUNING is the
default unless --tuning is given (job_poll_min is the first poll's delay).
Run it with PYTHONPATH=<checkout> so that the scheduler it starts runs that
checkout's code.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sched_lab import ROOT, Lab, bare_container, bare_paramiko, bare_ssh, med, pct  # noqa: E402

ZERO = {"duration": 0, "sleep": 0}
NET = os.environ.get("FASTPATH_TEST_NET", "127.0.11")  # the SUTs' loopback /24


def part_a(tmp: Path, jobs: int, tuning: str | None) -> float:
    print(f"(a) {jobs} trivial jobs one after another on 1 SUT (real scheduler, tuning: "
          f"{tuning or 'default'})")
    lab = Lab(tmp / "a", 1, prefix="jo", net=NET, tuning=tuning)
    try:
        lab.wait_healthy()
        ssh = bare_ssh(lab.bed, 10)
        floor = bare_paramiko(lab.bed, 10)
        box = bare_container(lab.bed, 5, ZERO)
        t0 = time.time()
        plan = lab.submit("a", swprofiles=1, sessions=jobs, params=ZERO)
        lab.wait_plan(plan, timeout=60 + jobs * 30)
        wall = time.time() - t0
        rows = lab.jobs(plan)
    finally:
        lab.close()
    ok = [r for r in rows if r["state"] == "completed" and r["running"]]
    connect = [r["running"] - r["assigned"] for r in ok]
    rest = [r["finished"] - r["running"] for r in ok]
    hold = [r["finished"] - r["assigned"] for r in ok]
    gaps = [b["assigned"] - a["finished"] for a, b in zip(ok, ok[1:], strict=False)]
    print(f"    jobs completed {len(ok)}/{len(rows)}, wall {wall:.1f}s "
          f"({len(ok) / wall * 60:.1f} jobs/min on one SUT)")
    print(f"    bare ssh true (new connection each)       median {med(ssh):.3f}s  p90 {pct(ssh, .9):.3f}s")
    print(f"    paramiko connect + exec true (new each)  median {med(floor):.3f}s  "
          f"p90 {pct(floor, .9):.3f}s")
    print(f"    bare podman run --rm busyloop (0 work)    median {med(box):.3f}s  p90 {pct(box, .9):.3f}s")
    print(f"    job: assigned -> running (connect step)   median {med(connect):.3f}s  "
          f"p90 {pct(connect, .9):.3f}s")
    print(f"    job: running -> finished (prepare..cleanup) median {med(rest):.3f}s  "
          f"p90 {pct(rest, .9):.3f}s")
    print(f"    job: SUT held (assigned -> finished)      median {med(hold):.3f}s  "
          f"p90 {pct(hold, .9):.3f}s")
    print(f"    SUT idle between jobs (finished -> next assigned) median {med(gaps) * 1000:.0f}ms")
    print(f"    RATIO SUT held / paramiko connect+exec = {med(hold):.3f}s / {med(floor):.3f}s = "
          f"{med(hold) / med(floor):.2f} (target <= 3); load average {os.getloadavg()[0]:.2f}")
    over = med(hold) - med(box)
    print(f"    overhead per job = held - container = {over:.3f}s  "
          f"= {over / med(ssh):.1f} x a bare ssh true, {med(hold) / med(box):.1f} x the container")
    return med(box)


def part_s(tmp: Path, jobs: int) -> None:
    """The same trivial jobs on one SUT with the real controller loop and job runner in-process,
    each recorded step timed, and the SSH commands each makes counted."""
    import threading
    from collections import defaultdict

    import yaml
    from sched_lab import stop_testbed, testbed

    from fastpath.control.controller import Controller
    from fastpath.control.runner import JobRunner
    from fastpath.core.sutclass import parse
    from fastpath.plan.schema import validate
    from fastpath.plan.split import split
    from fastpath.store.db import bind, db
    from fastpath.store.files import Storage
    from fastpath.store.models import Job, SutClass, User
    from fastpath.store.queries import inventory as q_inventory
    from fastpath.store.queries import plans as q_plans
    from fastpath.sut import remote as remote_mod

    print(f"\n(s) {jobs} trivial jobs on 1 SUT, controller and job runner in-process: time per step")
    bed = testbed(tmp / "s-bed", 1, "js", NET)
    calls: dict[str, list[float]] = defaultdict(list)
    ssh: dict[str, int] = defaultdict(int)
    current = threading.local()
    original_run, original_sftp = remote_mod.Remote.run, remote_mod.Remote.sftp

    def counted(original, kind):
        def wrapper(self, *a, **kw):
            ssh[f"{getattr(current, 'step', 'probe')}:{kind}"] += 1
            return original(self, *a, **kw)
        return wrapper

    remote_mod.Remote.run = counted(original_run, "run")
    remote_mod.Remote.sftp = counted(original_sftp, "sftp")

    def timed_runner(ctl):
        runner = JobRunner.of(ctl, Storage(tmp / "s-storage"), publish_to=None)

        def timed(name, step):
            def call(ctx):
                current.step = name
                t = time.perf_counter()
                try:
                    return step(ctx)
                finally:
                    calls[name].append(time.perf_counter() - t)
                    current.step = None
            return call

        runner.steps.table = {k: timed(k, f) for k, f in runner.steps.table.items()}
        return runner

    stop = threading.Event()
    try:
        bind(f"sqlite:///{tmp}/s.db")
        db.connect(reuse_if_open=True)
        now = time.time()
        q_inventory.sync_inventory(parse(yaml.safe_dump(bed.sutclasses("demo", boot="none")),
                                     source="bench", base=tmp), now)
        cls = SutClass.get(SutClass.name == "demo")
        user = User.create(name="bench", capabilities="exec,query", token_hash="y" * 64, created_at=now)
        plan = validate({"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "own"}],
                         "benchmarks": [{"include": "testing/busyloop.yaml", "params": ZERO}],
                         "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": jobs}}},
                        source="bench")
        created = q_plans.create_plan(user, cls, plan, [(j.swprofile, j.session) for j in split(plan)],
                                      5, False, now)
        db.close()
        ctl = Controller(name="bench-s")
        ctl.register(timed_runner(ctl))
        loop = threading.Thread(target=ctl.run, args=(stop,), daemon=True)
        t0 = time.time()
        loop.start()
        deadline = time.monotonic() + 60 + jobs * 30
        with db.connection_context():
            while time.monotonic() < deadline:
                states = [j.state for j in Job.select(Job.state).where(Job.plan == created.id)]
                if all(s in ("completed", "failed", "cancelled") for s in states):
                    break
                time.sleep(0.2)
            rows = list(Job.select().where(Job.plan == created.id).order_by(Job.id))
        wall = time.time() - t0
    finally:
        stop.set()
        remote_mod.Remote.run, remote_mod.Remote.sftp = original_run, original_sftp
        if "loop" in locals():
            loop.join(30)
        if not db.is_closed():
            db.close()
    try:
        _report_steps(rows, calls, ssh, wall, bed)
    finally:
        stop_testbed(bed)


def _report_steps(rows, calls, ssh, wall, bed) -> None:
    ok = [r for r in rows if r.state == "completed"]
    hold = [r.finished_at - r.assigned_at for r in ok]
    print(f"    completed {len(ok)}/{len(rows)} in {wall:.1f}s; SUT held per job median {med(hold):.3f}s")
    total = 0.0
    for name in ("connect", "setup", "prepare", "run", "collect", "cleanup"):
        if name in calls:
            xs = calls[name]
            total += sum(xs)
            cmds = ssh.get(f"{name}:run", 0) + ssh.get(f"{name}:sftp", 0)
            label = "poll" if name == "run" else name
            print(f"    step {label:8} {len(xs) / len(ok):4.1f} calls/job, median {med(xs) * 1000:7.1f}ms, "
                  f"{sum(xs) / len(ok) * 1000:7.1f}ms/job, {cmds / len(ok):4.1f} SSH commands/job")
    mean_hold = sum(hold) / len(hold)
    print(f"    steps' own work {total / len(ok):.3f}s/job of a mean hold of {mean_hold:.3f}s; the rest "
          f"({mean_hold - total / len(ok):.3f}s) is the container's run between polls and the "
          "hand-offs between steps")
    env = {**os.environ, "CONTAINERS_CONF": str(bed.suts[0].dir / "containers.conf")}
    info = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(["podman", "info"], capture_output=True, env=env, check=True)
        info.append(time.perf_counter() - t)
    print(f"    `podman info` (the runtime check, once per boot id): median {med(info) * 1000:.0f}ms "
          f"locally; bare podman run {med(bare_container(bed, 3, ZERO)) * 1000:.0f}ms")


def part_b(tmp: Path, jobs: int, tuning: str | None, box: float | None) -> None:
    suts = 20
    swprofiles = math.ceil(jobs / 100)
    sessions = math.ceil(jobs / swprofiles)
    jobs = swprofiles * sessions
    print(f"\n(b) {jobs} trivial jobs ({swprofiles} swprofiles x {sessions} sessions) over {suts} SUTs")
    lab = Lab(tmp / "b", suts, prefix="jm", net=NET, tuning=tuning)
    try:
        lab.wait_healthy()
        if box is None:
            box = med(bare_container(lab.bed, 5, ZERO))
        t0, cpu0 = time.time(), lab.cpu()
        plan = lab.submit("b", swprofiles=swprofiles, sessions=sessions, params=ZERO)
        lab.wait_plan(plan, timeout=120 + jobs * 10)
        wall, cpu1 = time.time() - t0, lab.cpu()
        rows = lab.jobs(plan)
    finally:
        lab.close()
    ok = [r for r in rows if r["state"] == "completed"]
    first = min(r["assigned"] for r in ok)
    last = max(r["finished"] for r in ok)
    span = last - first
    held = sum(r["finished"] - r["assigned"] for r in ok)
    per_sut: dict[str, list] = {}
    for r in ok:
        per_sut.setdefault(r["sut"], []).append(r)
    gaps = []
    for js in per_sut.values():
        js.sort(key=lambda r: r["assigned"])
        gaps += [b["assigned"] - a["finished"] for a, b in zip(js, js[1:], strict=False)]
    print(f"    completed {len(ok)}/{len(rows)}, retried {sum(r['attempts'] > 1 for r in rows)}; "
          f"wall from submission {wall:.1f}s, first assignment -> last finish {span:.1f}s")
    print(f"    throughput {len(ok) / span * 60:.1f} jobs/min ({len(ok) / span * 60 / suts:.1f} per SUT)")
    print(f"    container time (jobs x bare podman run {box:.3f}s) {len(ok) * box:.1f}s; "
          f"SUT-seconds {span * suts:.1f}s")
    print(f"    scheduler overhead per job = (span x SUTs - container time) / jobs = "
          f"{(span * suts - len(ok) * box) / len(ok):.3f}s")
    for verb in ("controller", "api"):
        used = cpu1.get(verb, 0.0) - cpu0.get(verb, 0.0)
        print(f"    {verb} CPU {used:.1f}s = {used / len(ok) * 1000:.0f}ms per job, "
              f"{used / span * 100:.1f}% of one core")
    errors = sorted({r["error"] for r in rows if r["attempts"] > 1 and r["error"]})
    if errors:
        print(f"    retries' reasons: {'; '.join(e[:160] for e in errors[:3])}")
    print(f"    SUT held per job {held / len(ok):.3f}s; SUT idle between jobs median "
          f"{med(gaps) * 1000:.0f}ms p90 {pct(gaps, .9) * 1000:.0f}ms")


def part_c(tmp: Path, sizes: list[int], passes: int) -> None:
    from fastpath.control.controller import Controller
    from fastpath.control.publisher import Publisher
    from fastpath.control.runner import JobRunner
    from fastpath.control.tuning import Tuning
    from fastpath.core.sutclass import parse
    from fastpath.store.db import bind, db
    from fastpath.store.files import Storage
    from fastpath.store.models import Job, Plan, Sut, SutClass, User
    from fastpath.store.queries import control as q_control
    from fastpath.store.queries import inventory as q_inventory
    from fastpath.store.queries import jobs as q_jobs
    from fastpath.store.queries import suts as q_suts

    print(f"\n(c) one controller pass, in-process, SQLite, with N finished jobs ({passes} passes each)")
    bind(f"sqlite:///{tmp}/c.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    key = tmp / "unused_key"
    key.write_text("never used: no SSH in this part\n")
    doc = [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "container_runtime": "podman",
            "suts": [{"name": f"c-{i:02d}", "connection": {"method": "SSH", "params": {
                "host": f"{NET}.250", "port": 9, "user": "nobody", "keyfile": str(key)}}}
                for i in range(20)]}}]
    import yaml

    q_inventory.sync_inventory(parse(yaml.safe_dump(doc), source="bench", base=tmp), now)
    Sut.update(health="healthy", last_ok_at=now + 3600).execute()  # no probe during the bench
    cls = SutClass.get(SutClass.name == "demo")
    user = User.create(name="bench", capabilities="exec,query", token_hash="x" * 64, created_at=now)
    plan_doc = {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "p"}], "benchmarks": []}

    def plan(state: str, total: int) -> int:
        return Plan.create(user=user.id, sutclass=cls.id, state=state, priority=5, publish=True,
                           document=plan_doc, total_jobs=total, queued_at=now).id

    suts = [s.id for s in Sut.select().order_by(Sut.id)]
    active = plan("running", 220)
    rows = [dict(plan=active, sutclass=cls.id, user=user.id, swprofile=0, session=i + 1,
                 state="running", sut=suts[i], attempts=1, step="run", due_at=now + 86400,
                 queued_at=now, assigned_at=now) for i in range(20)]
    rows += [dict(plan=active, sutclass=cls.id, user=user.id, swprofile=0, session=21 + i,
                  state="queued", queued_at=now) for i in range(200)]
    Job.insert_many(rows).execute()

    storage = Storage(tmp / "storage")
    ctl = Controller(name="bench", tuning=Tuning(probe_interval=86400, fresh=86400))
    ctl.register(JobRunner.of(ctl, storage, publish_to=f"sqlite:///{tmp}/results.db"))
    ctl.register(Publisher(storage, f"sqlite:///{tmp}/results.db", ctl.fence))
    assert ctl.lead()
    have = 0
    probes = {
        "suts_to_probe": lambda t: q_suts.suts_to_probe(t, 86400),
        "enabled_classes": lambda t: q_control.enabled_classes(),
        "free_suts": lambda t: q_control.free_suts(cls.id, t, 5),
        "demand": lambda t: q_control.demand(cls.id, t),
        "held_counts": lambda t: q_control.held_counts(cls.id),
        "jobs_due": lambda t: q_jobs.jobs_due(t),
        "publish_due": lambda t: q_jobs.publish_due(t),
    }
    results = {}
    print(f"    {'finished jobs':>13} {'pass median':>12} {'p95':>8}   " +
          " ".join(f"{k:>15}" for k in probes))
    for size in sizes:
        while have < size:  # finished jobs in plans of 1,000, inserted in bulk
            n = min(1000, size - have)
            pid = plan("completed", n)
            batch = [dict(plan=pid, sutclass=cls.id, user=user.id, swprofile=0, session=i + 1,
                          state="completed", sut=suts[i % 20], attempts=1, step="done",
                          due_at=now - 3600, publish="done", results=2, queued_at=now - 7200,
                          assigned_at=now - 7000, finished_at=now - 6900) for i in range(n)]
            with db.atomic():
                for i in range(0, n, 500):
                    Job.insert_many(batch[i:i + 500]).execute()
            have += n
        times = []
        for _ in range(passes):
            t = time.perf_counter()
            ctl.run_once()
            times.append(time.perf_counter() - t)
        assert ctl.idle(), "the pass started work: the bench's world is not quiet"
        each = {}
        for name, fn in probes.items():
            ts = []
            for _ in range(max(5, passes // 4)):
                t = time.perf_counter()
                fn(time.time())
                ts.append(time.perf_counter() - t)
            each[name] = med(ts)
        results[size] = med(times)
        print(f"    {size:>13,} {med(times) * 1000:>10.2f}ms {pct(times, .95) * 1000:>6.2f}ms   " +
              " ".join(f"{each[k] * 1000:>13.2f}ms" for k in probes), flush=True)
    base = results[sizes[0]]
    print("    ratio to the first: " + ", ".join(f"{s:,}: x{results[s] / base:.2f}" for s in sizes))
    plans = {}
    for name, sql in (("demand", 'SELECT id FROM job WHERE sutclass_id = ? AND state = ?'),
                      ("jobs_due", 'SELECT id FROM job WHERE state IN (?, ?) AND due_at <= ?'),
                      ("publish_due", 'SELECT id FROM job WHERE publish = ? AND due_at <= ?')):
        args = {"demand": (cls.id, "queued"), "jobs_due": ("assigned", "running", now),
                "publish_due": ("pending", now)}[name]
        plans[name] = " | ".join(r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, args))
    for name, text in plans.items():
        print(f"    plan of {name}: {text}")
    ctl.shutdown()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, help="jobs of part (b) (default 300; the issue's 1,000)")
    parser.add_argument("--parts", default="a,s,b,c")
    parser.add_argument("--tuning", help="FASTPATH_TUNING for the scheduler (default: its defaults)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    box = None
    with tempfile.TemporaryDirectory(prefix="fp-bench-jobs-") as tmp:
        tmp = Path(tmp)
        if "a" in parts:
            box = part_a(tmp, 5 if args.quick else 20, args.tuning)
        if "s" in parts:
            part_s(tmp, 5 if args.quick else 20)
        if "b" in parts:
            part_b(tmp, args.jobs or (60 if args.quick else 300), args.tuning, box)
        if "c" in parts:
            part_c(tmp, [0, 1000, 10000] if args.quick else [0, 10_000, 100_000],
                   10 if args.quick else 40)


if __name__ == "__main__":
    print(f"job_overhead, {ROOT}")
    main()
