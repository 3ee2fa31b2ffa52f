"""Time of one controller pass (`Controller.run_once()`), in-process on SQLite.

Set-up: a SQLite database in a temporary directory, a class of 100 SUTs
synced from a sutclasses file (hosts on 127.0.10.x that nobody listens on),
all marked healthy through `q_suts.record_ok` as if each had just answered a
probe, so no pass needs SSH; 1,000 queued leases from 10 users. The
controller has its real workers (jobs, publishing, probes) but an executor
that only records what a pass submits and runs nothing: the figure is the
pass itself (its queries and decisions), which is what the loop runs every
tick and on every change.

Measured:
  - the first pass, which hands the 100 SUTs to 100 leases (100 hand-overs);
  - an idle pass (every SUT held, 900 leases still queued, nothing to do),
    median of N;
  - the idle pass again after 10k and 100k finished leases (released) and
    finished jobs (completed, published), with their plans, usage intervals and
    events, inserted in bulk through the models: it should stay flat.
The SQL of one idle pass at the largest size is listed with SQLite's query
plan, flagging full scans of the tables that grow.

    .venv/bin/python bench/controller_pass.py [--passes N] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import yaml
from harness import SUT_NET, machine, median, table

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.sched import sutclasses
from fastpath.sched.server import Settings, register_workers
from fastpath.store.db import bind, db
from fastpath.store.models import Event, Job, Lease, Plan, Usage
from fastpath.store.queries import control as q_control
from fastpath.store.queries import inventory as q_inventory
from fastpath.store.queries import leases as q_leases
from fastpath.store.queries import suts as q_suts
from fastpath.store.queries import users as q_users

SUTS, QUEUED, USERS = 100, 1000, 10
GROWING = ("lease", "job", "plan", "usage", "event")


class Recorder:
    """An executor that runs nothing: it counts what a pass would start."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn, *args) -> None:
        self.submitted += 1

    def shutdown(self, **kw) -> None:
        pass


class Statements(logging.Handler):
    """The SQL peewee sends (it logs each statement at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, tuple]] = []

    def emit(self, record) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append(record.msg)


def setup(work: Path) -> tuple[Controller, list]:
    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    suts = [{"name": f"pass-{i:03d}", "connection": {"method": "SSH", "params": {
        "host": f"{SUT_NET}{1 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(SUTS)]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(
        [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": suts}}]))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    q_inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    users = [q_users.create_user(f"user{i}", "lease,exec,query", now, actor="bench")[0]
             for i in range(USERS)]
    for i in range(QUEUED):
        q_leases.request_lease(users[i % USERS], "demo", 5, now + i * 1e-3)
    settings = Settings(database=f"sqlite:///{work}/scheduler.db", storage=work / "storage",
                        sutclasses=work / "sutclasses.yaml")
    controller = Controller(name="bench", tuning=Tuning(), executor=Recorder())
    register_workers(controller, settings)
    if not controller.lead():
        raise SystemExit("the bench's controller could not take the lead")
    return controller, users


def mark_healthy() -> None:
    now = time.time()
    for cls in q_control.enabled_classes():
        for sut in q_inventory.class_suts(cls.id):
            q_suts.record_ok(sut.id, now)


def timed_pass(controller: Controller) -> float:
    start = time.perf_counter()
    controller.run_once()
    return time.perf_counter() - start


def add_finished(count: int, users: list, first: float) -> None:
    """`count` released leases and `count` completed jobs (10 per plan), with usage and events."""
    cls = q_control.enabled_classes()[0]
    suts = [s.id for s in q_inventory.class_suts(cls.id)]
    chunk = 500  # SQLite's variables per statement
    with db.atomic():
        plans = []
        for p in range(count // 10):
            t = first + p
            plans.append(dict(user=users[p % USERS].id, sutclass=cls.id, name=f"old-{p}",
                              state="completed", priority=5, publish=True, document={"name": "x"},
                              total_jobs=10, queued_at=t, started_at=t, completed_at=t + 5))
        plan_ids = []
        for i in range(0, len(plans), chunk):
            start = Plan.insert_many(plans[i:i + chunk]).execute()
            # SQLite returns the last row id of a multi-row insert
            plan_ids += list(range(start - len(plans[i:i + chunk]) + 1, start + 1))
        leases, jobs, usage, events = [], [], [], []
        for n in range(count):
            t, user, sut = first + n, users[n % USERS].id, suts[n % len(suts)]
            leases.append(dict(user=user, sutclass=cls.id, sut=sut, state="released", priority=5,
                               queued_at=t, acquired_at=t, ended_at=t + 1))
            jobs.append(dict(plan=plan_ids[n // 10], sutclass=cls.id, user=user, swprofile=0,
                             session=n % 10 + 1, state="completed", priority=5, sut=sut, attempts=1,
                             step="done", progress={}, due_at=t + 2, publish="done", results=3,
                             queued_at=t, assigned_at=t, finished_at=t + 2))
            usage += [dict(sut=sut, sutclass=cls.id, user=user, kind="lease", ref=0, started_at=t,
                           ended_at=t + 1),
                      dict(sut=sut, sutclass=cls.id, user=user, kind="job", ref=0, started_at=t,
                           ended_at=t + 2)]
            events += [dict(at=t, actor="bench", kind="lease", ref=0, old="acquired", new="released"),
                       dict(at=t, actor="bench", kind="job", ref=0, old="running", new="completed")]
        for model, rows in ((Lease, leases), (Job, jobs), (Usage, usage), (Event, events)):
            for i in range(0, len(rows), chunk):
                model.insert_many(rows[i:i + chunk]).execute()


def explain(statements: list[tuple[str, tuple]]) -> list[list[str]]:
    rows, seen = [], set()
    for sql, params in statements:
        if sql in seen or not sql.lstrip().upper().startswith("SELECT"):
            continue
        seen.add(sql)
        plan = [r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
        start = time.perf_counter()
        db.execute_sql(sql, params).fetchall()
        took = time.perf_counter() - start
        scans = [p for p in plan if p.startswith("SCAN") and any(f'"{t}"' in p or f" {t}" in p
                                                                 for t in GROWING)]
        rows.append([f"{1000 * took:.2f}", "SCAN!" if scans else "", "; ".join(plan)[:90],
                     " ".join(sql.split())[:110]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=21, help="idle passes per size")
    parser.add_argument("--quick", action="store_true", help="5 passes, 0 and 10k finished only")
    args = parser.parse_args()
    passes = 5 if args.quick else min(max(args.passes, 1), 500)
    sizes = [0, 10_000] if args.quick else [0, 10_000, 100_000]

    with tempfile.TemporaryDirectory(prefix="bench-pass-") as tmp:
        controller, users = setup(Path(tmp))
        try:
            mark_healthy()
            recorder = controller._pool
            handover = timed_pass(controller)
            granted = sum(1 for x in q_leases.list_leases(["acquired"], None))
            rows = [["first pass: 100 hand-overs", 0, f"{1000 * handover:.1f}", "",
                     f"{granted} leases acquired"]]
            idle, fastest = {}, {}
            added = 0
            for size in sizes:
                if size > added:
                    add_finished(size - added, users, first=time.time() - 10 * 86400)
                    added = size
                timed_pass(controller)  # warm the caches after the inserts
                before = recorder.submitted
                times = [timed_pass(controller) for _ in range(passes)]
                idle[size], fastest[size] = median(times), min(times)
                rows.append([f"idle pass (all SUTs held, {QUEUED - granted} leases queued)", size,
                             f"{1000 * idle[size]:.2f}", f"{1000 * min(times):.2f}",
                             f"{recorder.submitted - before} works submitted"])
            handler = Statements()
            peewee_log = logging.getLogger("peewee")
            peewee_log.addHandler(handler)
            peewee_log.setLevel(logging.DEBUG)
            controller.run_once()
            peewee_log.removeHandler(handler)
            plans = explain(handler.seen)
        finally:
            controller.connections.close()
            db.close()

    print(f"Controller pass, in-process, SQLite, {SUTS} SUTs, {QUEUED} queued leases ({machine()})")
    table(["pass", "finished records", "median ms", "min ms", "note"], rows)
    base = idle[0]
    print("\nidle pass vs 0 finished records (median; min): " + ", ".join(
        f"{size // 1000}k: {idle[size] / base:.2f}x; {fastest[size] / fastest[0]:.2f}x"
        for size in sizes if size))
    print(f"\nSELECTs of one idle pass at {sizes[-1] // 1000}k finished records "
          f"({len(handler.seen)} statements in all):")
    table(["ms", "scan", "query plan", "SQL"], plans)


if __name__ == "__main__":
    main()
