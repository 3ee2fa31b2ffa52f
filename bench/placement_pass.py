"""Cost of placement in a controller pass: one 10,000-job plan over 100 SUTs, SQLite, in-process.

Set-up: as bench/controller_pass.py (100 healthy SUTs nobody listens on, an
executor that runs nothing), and one plan of 100 swprofiles x 100 sessions
(the most a plan may have), placed `spread` or `same`.

Measured, per placement (and with placement switched off, "none", for comparison):
  - the first pass, which hands the 100 SUTs to the plan's first jobs;
  - a pass after one of the plan's jobs ended (one SUT free, the plan's
    jobs read and placed again), median of N;
  - of that pass, the placement alone: reading the plan's jobs
    (`queries.control.placing`) and deciding (`core.schedule.placing`).

    .venv/bin/python bench/placement_pass.py [--passes N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from controller_pass import Recorder, mark_healthy
from harness import SUT_NET, machine, median, table

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.core.schedule import placing
from fastpath.core.states import JobState
from fastpath.sched import sutclasses
from fastpath.store.db import bind, db
from fastpath.store.models import Job
from fastpath.store.queries import control as q_control
from fastpath.store.queries import inventory as q_inventory
from fastpath.store.queries import jobs as q_jobs
from fastpath.store.queries import plans as q_plans
from fastpath.store.queries import users as q_users

SUTS, SWPROFILES, SESSIONS = 100, 100, 100


def setup(work: Path, mode: str) -> Controller:
    import yaml

    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    suts = [{"name": f"place-{i:03d}", "connection": {"method": "SSH", "params": {
        "host": f"{SUT_NET}{1 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(SUTS)]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(
        [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": suts}}]))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    q_inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    user = q_users.create_user("alice", "exec,query", now, actor="bench")[0]
    cls = q_control.enabled_classes()[0]
    doc = {"sut": {"sutclass": "demo", "name": None, "placement": mode},
           "swprofiles": [{"name": f"sw{i}"} for i in range(SWPROFILES)],
           "benchmarks": [{"suite": "testing", "name": "busyloop", "sessions": SESSIONS}]}
    order = list(range(SWPROFILES))
    jobs = [(p, k) for k in range(1, SESSIONS + 1) for p in (order if k % 2 else order[::-1])]
    q_plans.create_plan(user, cls, doc, jobs, 5, False, now)
    mark_healthy()
    controller = Controller(name="bench", tuning=Tuning(ttl=1e6), executor=Recorder())
    if not controller.lead():
        raise SystemExit("the bench's controller could not take the lead")
    return controller


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(mode: str, passes: int) -> list:
    """`mode` "none": the same passes with placement switched off (every job may go anywhere)."""
    real = q_control.placing
    if mode == "none":
        q_control.placing = lambda class_id: []  # type: ignore[assignment]
    try:
        return _measure("spread" if mode == "none" else mode, passes, label=mode)
    finally:
        q_control.placing = real


def _measure(mode: str, passes: int, label: str) -> list:
    with tempfile.TemporaryDirectory(prefix="bench-place-") as tmp:
        ctl = setup(Path(tmp), mode)
        try:
            first = timed(lambda: ctl.run_once())
            held = Job.select().where(Job.state == JobState.ASSIGNED).count()
            cls = q_control.enabled_classes()[0]
            again, alone = [], []
            for _ in range(passes):
                job = Job.select().where(Job.state == JobState.ASSIGNED).order_by(Job.id).first()
                q_jobs.finish_job(job, JobState.COMPLETED, time.time(), publish=False)
                usable = [s.id for s in q_control.usable_suts(cls.id)]

                def place(usable=usable, free=(job.sut_id,)):
                    for m, plan_jobs in q_control.placing(cls.id):
                        placing(m, plan_jobs, usable, free)

                alone.append(timed(place))
                again.append(timed(lambda: ctl.run_once()))
        finally:
            db.close()
    rows = [[label, "first pass", f"{1000 * first:.1f}", f"{held} jobs assigned"],
            [label, "a job ended: one SUT free", f"{1000 * median(again):.1f}",
             f"min {1000 * min(again):.1f}"]]
    if label != "none":
        rows.append([label, "  of which placement", f"{1000 * median(alone):.1f}",
                     f"min {1000 * min(alone):.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=11)
    args = parser.parse_args()
    rows = measure("none", args.passes) + measure("spread", args.passes) + measure("same", args.passes)
    print(f"Placement in a controller pass: {SWPROFILES * SESSIONS} jobs, {SUTS} SUTs ({machine()})")
    table(["placement", "pass", "median ms", "note"], rows)


if __name__ == "__main__":
    main()
