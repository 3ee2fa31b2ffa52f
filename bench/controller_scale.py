"""How a controller pass grows with SUTs and queued records (issue 15, "Scale, measured").

In-process on SQLite, each size in its own process (so its memory is its own):
N SUTs (10, 100, 1,000) in up to 20 classes, 10,000 queued jobs (plans of
100 jobs from 10 users, spread over the classes) and 200 queued leases. SSH
is replaced by the tests' in-process fake (`tests.fakes.FakeConnections`), for
this bench only: probes and hand-overs run at once in the pass's thread; the
job runner's and the publisher's work is recorded, never run (what a pass
costs is the pass, as in bench/controller_pass.py, whose `Recorder` and
`Statements` this reuses).

Measured per size:
  - the first pass: probes every SUT (fake SSH) and hands all N out;
  - an idle pass (every SUT held, the rest queued): median of --passes;
  - the allocation latency: one SUT freed (its job finished), then the pass
    that hands it on (the loop starts that pass within `poll` of the change),
    median of 5; and a burst: N/10 SUTs freed at once, the pass after;
  - times are the pass thread's CPU time (the machine is shared; a pass is one thread);
  - memory: the process's peak RSS, and the peak of Python allocations
    (tracemalloc) during one idle pass and one burst pass;
  - SQL statements per idle pass and per allocation pass.
Then the same at 100 SUTs with 2,500, 10,000 and 40,000 queued jobs, for the
growth in queued records. Ratios: each size against the smallest, next to
the ratio of SUTs plus queued records.

    .venv/bin/python bench/controller_scale.py [--sizes 10,100,1000] [--jobs 10000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml
from controller_pass import Recorder, Statements
from harness import machine, median, table

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.core.states import JobState
from fastpath.sched import sutclasses
from fastpath.sched.server import Settings, register_workers
from fastpath.store.db import bind, db
from fastpath.store.models import Job, Plan
from fastpath.store.queries import inventory as q_inventory
from fastpath.store.queries import jobs as q_jobs
from fastpath.store.queries import leases as q_leases
from fastpath.store.queries import users as q_users
from tests.fakes import FakeConnections

USERS, PLAN_JOBS, MAX_CLASSES = 10, 100, 20
CLASSES = 0  # --classes: this many classes at every size (0: up to MAX_CLASSES, 5 SUTs a class)


class ProbesAtOnce(Recorder):
    """Runs probes and hand-overs (fake SSH) in the caller's thread; records the rest."""

    def submit(self, fn, *args) -> None:
        if args and args[0] == "probe":
            fn(*args)
        else:
            super().submit(fn, *args)


def classes_for(suts: int) -> int:
    return CLASSES or max(1, min(MAX_CLASSES, suts // 5))


def setup(work: Path, suts: int, queued_jobs: int, queued_leases: int) -> Controller:
    classes = classes_for(suts)
    key = work / "id_none"
    key.write_text("not a key: the SSH of this bench is a fake\n")
    specs = []
    for c in range(classes):
        members = [{"name": f"c{c:02d}-{i:04d}", "connection": {"method": "SSH", "params": {
            "host": f"sut-{c}-{i}.invalid", "port": 22, "user": "nobody", "keyfile": str(key)}}}
            for i in range(suts) if i % classes == c]
        specs.append({"sutclass": f"class{c:02d}", "type": "static",
                      "params": {"boot": "none", "reset": "none", "suts": members}})
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(specs))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    q_inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    users = [q_users.create_user(f"user{i}", "lease,exec,query", now, actor="bench")[0]
             for i in range(USERS)]
    cls_ids = [c.id for c in q_inventory.list_classes()]
    add_queued_jobs(queued_jobs, users, cls_ids, now - 3600)
    for i in range(queued_leases):
        q_leases.request_lease(users[i % USERS], f"class{i % classes:02d}", 5, now + i * 1e-3)
    settings = Settings(database=f"sqlite:///{work}/scheduler.db", storage=work / "storage",
                        sutclasses=work / "sutclasses.yaml")
    # a long lead: the bench's passes are not interrupted by its renewal
    controller = Controller(name="bench", tuning=Tuning(ttl=3600, renew=3000),
                            connections=FakeConnections(), executor=ProbesAtOnce())
    register_workers(controller, settings)
    if not controller.lead():
        raise SystemExit("the bench's controller could not take the lead")
    return controller


def add_queued_jobs(count: int, users: list, cls_ids: list[int], first: float) -> None:
    """`count` queued jobs in plans of PLAN_JOBS, a plan's jobs all of one class and user."""
    chunk = 500  # SQLite's variables per statement
    with db.atomic():
        plans = [dict(user=users[p % USERS].id, sutclass=cls_ids[p % len(cls_ids)], name=f"p{p}",
                      state="queued", priority=5, publish=False, document={"name": f"p{p}"},
                      total_jobs=PLAN_JOBS, queued_at=first + p)
                 for p in range((count + PLAN_JOBS - 1) // PLAN_JOBS)]
        for i in range(0, len(plans), chunk):
            Plan.insert_many(plans[i:i + chunk]).execute()
        ids = [p.id for p in Plan.select(Plan.id).order_by(Plan.id)]
        rows = []
        for n in range(count):
            p = n // PLAN_JOBS
            rows.append(dict(plan=ids[p], sutclass=plans[p]["sutclass"], user=plans[p]["user"],
                             swprofile=n % 2, session=(n % PLAN_JOBS) // 2 + 1, state="queued",
                             priority=5, progress={}, queued_at=first + p + n * 1e-6))
        for i in range(0, len(rows), chunk):
            Job.insert_many(rows[i:i + chunk]).execute()


def timed(controller: Controller) -> float:
    """The pass's CPU time: the machine is shared, and a pass is one thread's work (the
    fake SSH runs in it too), so wall time would mostly measure the other load."""
    start = time.thread_time()
    controller.run_once()
    return time.thread_time() - start


def held() -> int:
    return len(q_inventory.holders())


def free(count: int) -> None:
    """Finish `count` running jobs, as the runner would: their SUTs are free again."""
    jobs = list(Job.select().where(Job.state == JobState.ASSIGNED).order_by(Job.id).limit(count))
    for job in jobs:
        q_jobs.finish_job(job, JobState.COMPLETED, time.time(), publish=False)


def counted(controller: Controller) -> int:
    handler = Statements()
    log = logging.getLogger("peewee")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        controller.run_once()
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.WARNING)
    return len(handler.seen)


def traced(controller: Controller) -> int:
    tracemalloc.start()
    try:
        controller.run_once()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def one(suts: int, queued_jobs: int, queued_leases: int, passes: int) -> dict:
    """Every figure of one size, in this process."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        controller = setup(Path(tmp), suts, queued_jobs, queued_leases)
        try:
            rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            first = timed(controller)
            handed = held()
            idle = [timed(controller) for _ in range(passes)]
            idle_sql = counted(controller)
            idle_mem = traced(controller)
            latency = []
            for _ in range(5):
                free(1)
                latency.append(timed(controller))
            free(1)
            alloc_sql = counted(controller)
            burst_n = max(1, suts // 10)
            free(burst_n)
            burst = timed(controller)
            free(burst_n)
            burst_mem = traced(controller)
            unserved = handed - held()  # freed SUTs not handed on (none while demand lasts)
        finally:
            controller.connections.close()
            db.close()
    return dict(suts=suts, classes=classes_for(suts), jobs=queued_jobs, leases=queued_leases,
                handed=handed, first=first, idle=median(idle), idle_min=min(idle),
                idle_sql=idle_sql, latency=median(latency), alloc_sql=alloc_sql, burst_n=burst_n,
                burst=burst, unserved=unserved, idle_mem=idle_mem, burst_mem=burst_mem, rss_setup=rss_setup,
                rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run(suts: int, jobs: int, leases: int, passes: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(suts), "--jobs", str(jobs),
                          "--leases", str(leases), "--passes", str(passes),
                          "--classes", str(CLASSES)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{suts} SUTs, {jobs} jobs failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(title: str, results: list[dict]) -> None:
    print(f"\n{title}")
    table(["SUTs", "classes", "queued jobs", "first pass ms", "handed", "idle pass ms",
           "idle SQL", "1 freed: pass ms", "alloc SQL", "burst", "burst ms", "idle KiB",
           "burst KiB", "peak RSS MiB", "unserved"],
          [[r["suts"], r["classes"], r["jobs"], 1000 * r["first"], r["handed"], 1000 * r["idle"],
            r["idle_sql"], 1000 * r["latency"], r["alloc_sql"], r["burst_n"], 1000 * r["burst"],
            r["idle_mem"] // 1024, r["burst_mem"] // 1024, r["rss"] // 1024, r["unserved"]]
           for r in results])
    base = results[0]
    size = base["suts"] + base["jobs"] + base["leases"]
    print("growth vs the first row (input = SUTs + queued records):")
    for r in results[1:]:
        grow = (r["suts"] + r["jobs"] + r["leases"]) / size
        per = (r["first"] / r["handed"]) / (base["first"] / base["handed"])
        print(f"  {r['suts']} SUTs, {r['jobs']} jobs: input x{grow:.2f}, "
              f"SUTs x{r['suts'] / base['suts']:.0f}; first pass x{r['first'] / base['first']:.1f} "
              f"(per SUT handed x{per:.1f}), idle x{r['idle'] / base['idle']:.1f}, "
              f"1 freed x{r['latency'] / base['latency']:.1f}, burst x{r['burst'] / base['burst']:.1f}")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="SUT counts")
    parser.add_argument("--jobs", type=int, default=10_000, help="queued jobs")
    parser.add_argument("--leases", type=int, default=200, help="queued leases")
    parser.add_argument("--passes", type=int, default=11, help="idle passes per size")
    parser.add_argument("--quick", action="store_true", help="the SUT series only")
    parser.add_argument("--classes", type=int, default=0,
                        help="classes at every size (default: SUTs/5, at most 20)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global CLASSES
    CLASSES = args.classes
    if args.one is not None:
        print(json.dumps(one(args.one, args.jobs, args.leases, args.passes)))
        return
    print(f"Controller scale, in-process, SQLite, fake SSH; times are the pass's CPU ms ({machine()})")
    sizes = [int(s) for s in args.sizes.split(",")]
    report(f"SUTs grow; {args.jobs} queued jobs, {args.leases} queued leases:",
           [run(n, args.jobs, args.leases, args.passes) for n in sizes])
    if not args.quick:
        report(f"queued jobs grow; 100 SUTs, {args.leases} queued leases:",
               [run(100, j, args.leases, args.passes) for j in (2_500, 10_000, 40_000)])
    print(f"\n({machine()})")


if __name__ == "__main__":
    main()
