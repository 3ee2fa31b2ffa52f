"""What explaining a long queue costs: lease reads beside a 10,000-job plan, in-process on SQLite.

Set-up: a class of 2 SUTs (never reached) marked healthy, both leased, a plan
of JOBS queued jobs behind them, and LEASES queued leases. Measured, through
the real falcon app (falcon.testing, no HTTP):
  - GET /leases/{id} of a queued lease, cold (the app's first read) and warm
    (the change counter has not moved: the class's explanation is reused);
  - GET /leases/{id} right after a write (the counter moved: one re-ranking);
  - GET /leases listing every queued lease (one explanation for all of them);
  - GET /plans/{id} of the big plan (its first queued job);
  - the pure `explain()` of the same queue, for reference.

    .venv/bin/python bench/explain_queue.py [--jobs N] [--leases N] [--reads N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml
from falcon.testing import TestClient
from harness import SUT_NET, machine, median, table

from fastpath.api import create_app
from fastpath.core.explain import explain
from fastpath.sched import sutclasses
from fastpath.store.db import bind, db
from fastpath.store.models import Sut
from fastpath.store.queries import base, inventory, leases, plans, queue, suts, users


def setup(work: Path, jobs: int, queued: int) -> tuple[TestClient, str, list[int], int]:
    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    doc = [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"q-{i}", "connection": {"method": "SSH", "params": {
            "host": f"{SUT_NET}{1 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(2)]}}]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(doc))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    for s in Sut.select():
        suts.record_ok(s.id, now)
    admin = users.ensure_admin(now)
    bob = users.create_user("bob", "lease,exec,query", now, actor="bench")[0]
    for s in Sut.select():
        lease, _ = leases.request_lease(bob, "demo", 5, now)
        leases.grant_lease(lease.id, s.id, now)
    cls = inventory.get_class("demo")
    document = {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "big"}], "benchmarks": []}
    plan = plans.create_plan(bob, cls, document, [(0, i + 1) for i in range(jobs)], 5, False, now)
    waiting = [leases.request_lease(bob, "demo", 5, now + 1 + i * 1e-3)[0].id for i in range(queued)]
    return TestClient(create_app(storage=work / "storage")), admin, waiting, plan.id


def timed(client: TestClient, token: str, path: str) -> float:
    start = time.perf_counter()
    r = client.simulate_get(path, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.json
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--leases", type=int, default=50)
    ap.add_argument("--reads", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        client, token, waiting, plan_id = setup(Path(tmp), args.jobs, args.leases)
        one = f"/leases/{waiting[-1]}"
        cold = timed(client, token, one)
        warm = median([timed(client, token, one) for _ in range(args.reads)])
        moved = []
        for _ in range(args.reads):
            base.bump()
            moved.append(timed(client, token, one))
        listing = median([timed(client, token, "/leases?all_users=true") for _ in range(args.reads)])
        plan = median([timed(client, token, f"/plans/{plan_id}") for _ in range(3)])
        cls = inventory.get_class("demo")
        start = time.perf_counter()
        q = queue.class_queue(cls)
        read = time.perf_counter() - start
        start = time.perf_counter()
        explain(q, time.time())
        pure = time.perf_counter() - start
    print(machine())
    print(f"{args.jobs} queued jobs, {args.leases} queued leases, 2 SUTs (both leased)\n")
    table(["measure", "ms"], [
        ["GET /leases/{id}, cold", round(cold * 1e3, 1)],
        ["GET /leases/{id}, counter unchanged (median)", round(warm * 1e3, 2)],
        ["GET /leases/{id}, after a write (median)", round(median(moved) * 1e3, 1)],
        [f"GET /leases, {args.leases + 2} leases (median)", round(listing * 1e3, 1)],
        [f"GET /plans/{{id}} with {args.jobs} jobs (median)", round(plan * 1e3, 1)],
        ["class_queue() reads", round(read * 1e3, 1)],
        ["explain() pure", round(pure * 1e3, 1)],
    ])


if __name__ == "__main__":
    main()
