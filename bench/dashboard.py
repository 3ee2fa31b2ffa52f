"""What the dashboard's overview costs on a big lab, next to `GET /sutclasses`, in-process on SQLite.

Set-up, through the store's queries: CLASSES classes of SUTS SUTs in all
(never reached, marked healthy), JOBS finished jobs spread over the last
two days (in plans of 50) (each assigned to a SUT and finished, so usage has history), and
now a leased SUT and a running job in every class, and a queued plan of
QUEUED jobs in the first class. Measured through the real falcon app
(falcon.testing, no HTTP): `GET /` (the overview, signed in by the
dashboard's cookie), its live-refresh fragment, and `GET /sutclasses`.

    .venv/bin/python bench/dashboard.py [--suts N] [--classes N] [--jobs N] [--reads N] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml
from falcon.testing import TestClient
from harness import SUT_NET, machine, median, percentile, table

from fastpath.api import create_app
from fastpath.api.middleware import COOKIE
from fastpath.core.states import JobState
from fastpath.sched import sutclasses
from fastpath.store.db import bind, db
from fastpath.store.models import Sut
from fastpath.store.queries import inventory, jobs, leases, plans, suts, users

PLAN_JOBS = 50
DOC = {"swprofiles": [{"name": "base"}], "benchmarks": []}


def setup(work: Path, n_suts: int, n_classes: int, n_jobs: int, queued: int) -> tuple[TestClient, str]:
    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    per = n_suts // n_classes
    doc = [{"sutclass": f"class-{c:02d}", "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"c{c:02d}-sut-{i:03d}", "connection": {"method": "SSH", "params": {
            "host": f"{SUT_NET}{1 + (c * per + i) % 250}", "port": 1 + c * per + i, "user": "nobody",
            "keyfile": str(key)}}} for i in range(per)]}} for c in range(n_classes)]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(doc))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    start = now - 2 * 86400
    inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), start - 60)
    for s in Sut.select():
        suts.record_ok(s.id, start - 60)
    admin = users.ensure_admin(start)
    bob = users.create_user("bob", "lease,exec,query", start, actor="bench")[0]
    classes = inventory.list_classes()
    by_class = {c.id: [s.id for s in inventory.class_suts(c.id)] for c in classes}
    each = n_jobs // len(classes)
    step = (now - 600 - start) / max(1, each // per)  # the SUTs of a class run one job after another
    for c in classes:
        with db.atomic():  # one commit per class: the fill is set-up, not what is measured
            _history(c, bob, by_class[c.id], each, per, start, step)
        lease, _ = leases.request_lease(bob, c.name, 5, now - 300)
        leases.grant_lease(lease.id, by_class[c.id][0], now - 300)
        busy = plans.create_plan(bob, c, {"sut": {"sutclass": c.name}, **DOC},
                                 [(0, 1)] + [(0, i + 2) for i in range(queued if c is classes[0] else 0)],
                                 5, False, now - 200)
        assert jobs.assign_job(plans.plan_jobs(busy.id)[0].id, by_class[c.id][1], now - 100)
    return TestClient(create_app(storage=work / "storage")), admin


def _history(c, user, sut_ids: list[int], each: int, per: int, start: float, step: float) -> None:
    """`each` finished jobs on the class's SUTs, in plans of PLAN_JOBS (a plan rolls up its jobs
    on every finish: one huge plan would make the fill quadratic, not the page slower)."""
    for first in range(0, each, PLAN_JOBS):
        count = min(PLAN_JOBS, each - first)
        plan = plans.create_plan(user, c, {"sut": {"sutclass": c.name}, **DOC},
                                 [(0, i + 1) for i in range(count)], 5, False, start)
        for k, job in enumerate(plans.plan_jobs(plan.id)):
            i = first + k
            t = start + (i // per) * step
            assert jobs.assign_job(job.id, sut_ids[i % per], t)
            jobs.finish_job(jobs.get_job(job.id), JobState.COMPLETED, t + step * 0.7, publish=False)


def timed(client: TestClient, path: str, **kw) -> tuple[float, float]:
    """Wall and CPU seconds of one request (CPU time: what a shared machine does not inflate)."""
    begin, cpu = time.perf_counter(), time.process_time()
    r = client.simulate_get(path, **kw)
    elapsed, used = time.perf_counter() - begin, time.process_time() - cpu
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return elapsed, used


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suts", type=int, default=200)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--queued", type=int, default=500)
    ap.add_argument("--reads", type=int, default=31)
    ap.add_argument("--quick", action="store_true", help="1,000 jobs and 7 reads")
    args = ap.parse_args()
    if args.quick:
        args.jobs, args.reads = 1000, 7
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        client, token = setup(Path(tmp), args.suts, args.classes, args.jobs, args.queued)
        filled = time.perf_counter() - began
        cookie, bearer = {COOKIE: token}, {"Authorization": f"Bearer {token}"}
        rows = []
        for label, path, kw in (
            ("GET / (overview page)", "/", {"cookies": cookie}),
            ("GET / fragment (live refresh)", "/", {"cookies": cookie, "headers": {"FP-Fragment": "1"}}),
            ("GET /sutclasses (API)", "/sutclasses", {"headers": bearer}),
            ("GET /sutclasses?from=-24h (API, usage)", "/sutclasses?from=" + _day_ago(), {"headers": bearer}),
        ):
            timed(client, path, **kw)  # warm: templates compiled, caches filled
            both = [timed(client, path, **kw) for _ in range(args.reads)]
            times, cpu = [w for w, _ in both], [c for _, c in both]
            rows.append([label, round(median(times) * 1e3, 1), round(percentile(times, 90) * 1e3, 1),
                         round(median(cpu) * 1e3, 1)])
    print(machine())
    print(f"{args.suts} SUTs in {args.classes} classes, {args.jobs} finished jobs over 2 days, "
          f"{args.queued} queued jobs; filled in {filled:.0f}s; {args.reads} reads each\n")
    table(["request", "p50 ms", "p90 ms", "CPU p50 ms"], rows)
    print(f"\noverview / GET /sutclasses (p50): {rows[0][1] / rows[2][1]:.1f}x wall, "
          f"{rows[0][3] / rows[2][3]:.1f}x CPU; target p50 <= 100 ms")


def _day_ago() -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time() - 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
