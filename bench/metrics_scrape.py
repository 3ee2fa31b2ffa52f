"""What one `/metrics` scrape costs: 200 SUTs in 10 classes, 10,000 finished jobs, in-process on SQLite.

Set-up, written straight into the database (no controller, no SSH): 10
classes of 20 SUTs (never reached) marked healthy; 10,000 finished jobs
(completed, some failed) with their usage intervals and recorded steps;
1,000 ended leases; and now: 5 SUTs leased and 5 running a job per class,
with queued leases and jobs behind them. The process runs in multiprocess
mode (`PROMETHEUS_MULTIPROC_DIR`, as in `sched run`), with its request,
hand-over and step histograms filled over every route, status and step, so
that a scrape reads real metric files as well as the database.

Measured through the real falcon app (falcon.testing, no HTTP): GET /metrics
(median and p95 of --scrapes), and its two parts: the database gauges alone
(`Census`) and the metric files alone; GET /sutclasses next to them.

    .venv/bin/python bench/metrics_scrape.py [--jobs N] [--scrapes N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

WORK = tempfile.TemporaryDirectory()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = WORK.name  # before prometheus_client is first imported

import yaml  # noqa: E402
from falcon.testing import TestClient  # noqa: E402
from harness import SUT_NET, machine, median, percentile, table  # noqa: E402
from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from fastpath.api import create_app  # noqa: E402
from fastpath.api.metrics import REQUEST_SECONDS, Census, route  # noqa: E402
from fastpath.control import metrics as controller_metrics  # noqa: E402
from fastpath.core.states import JobState, JobStep, LeaseState  # noqa: E402
from fastpath.metrics import Forward, process_registry  # noqa: E402
from fastpath.sched import sutclasses  # noqa: E402
from fastpath.store.db import bind, db  # noqa: E402
from fastpath.store.models import Job, Lease, Sut, Usage  # noqa: E402
from fastpath.store.queries import inventory, jobs, leases, plans, suts, users  # noqa: E402

CLASSES, PER_CLASS = 10, 20
STEPS = ["connect", "prepare", "run", "collect", "cleanup"]


def setup(work: Path, finished: int) -> str:
    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    doc = [{"sutclass": f"class-{c}", "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"c{c}-{i:02d}", "connection": {"method": "SSH", "params": {
            "host": f"{SUT_NET}{1 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(PER_CLASS)]}} for c in range(CLASSES)]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(doc))
    bind(f"sqlite:///{work}/scheduler.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    with db.atomic():  # one transaction: the fill is not what is measured
        return _fill(work, now, finished)


def _fill(work: Path, now: float, finished: int) -> str:
    inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    for s in Sut.select():
        suts.record_ok(s.id, now)
    admin = users.ensure_admin(now)
    bob = users.create_user("bob", "lease,exec,query", now, actor="bench")[0]
    rng = random.Random(1)
    t0 = now - 30 * 86400
    document = {"sut": {"sutclass": "x"}, "swprofiles": [{"name": "p"}], "benchmarks": []}
    per_class = finished // CLASSES
    for c in range(CLASSES):
        cls = inventory.get_class(f"class-{c}")
        class_suts = [s.id for s in inventory.class_suts(cls.id)]
        plan = plans.create_plan(bob, cls, {**document, "sut": {"sutclass": cls.name}},
                                 [(0, i + 1) for i in range(per_class + 10)], 5, False, t0)
        ids = [j.id for j in Job.select(Job.id).where(Job.plan == plan.id).order_by(Job.id)]
        usage = []
        for n, job_id in enumerate(ids[:per_class]):
            start = t0 + n * 200 + c
            steps = [[step, start + k * 20] for k, step in enumerate(STEPS)]
            state = JobState.FAILED if n % 50 == 0 else JobState.COMPLETED
            sut = class_suts[n % PER_CLASS]
            Job.update(state=state, sut=sut, attempts=1, assigned_at=start, finished_at=start + 100,
                       step=JobStep.DONE, progress={"steps": steps}).where(Job.id == job_id).execute()
            usage.append(dict(sut=sut, sutclass=cls.id, user=bob.id, kind="job", ref=job_id,
                              started_at=start, ended_at=start + 100))
        Usage.insert_many(usage).execute()
        for n, job_id in enumerate(ids[per_class:per_class + 5]):  # 5 running now, 5 still queued
            jobs.assign_job(job_id, class_suts[n], now)
        Lease.insert_many([dict(user=bob.id, sutclass=cls.id, state=LeaseState.RELEASED, priority=5,
                                queued_at=t0 + n, acquired_at=t0 + n, ended_at=t0 + n + 60)
                           for n in range(100)]).execute()  # ended leases
        for n in range(5):  # 5 leased now, 3 waiting
            lease, _ = leases.request_lease(bob, cls.name, 5, now - 60)
            leases.grant_lease(lease.id, class_suts[5 + n], now)
        for _ in range(3):
            leases.request_lease(bob, cls.name, 5, now - rng.uniform(0, 600))
    return admin


def fill_histograms(app) -> None:
    """The metric files of a `sched run` after a while: two API workers that have each answered
    every route and method with a success and two kinds of refusal, and the controller."""
    served = [(node.uri_template, method) for node in _routes(app._router._roots)
              for method in ("GET", "POST", "PATCH") if _responder(node, method)]

    def worker() -> None:
        for template, method in served:
            for status in ("200" if method != "POST" else "201", "400", "404"):
                REQUEST_SECONDS.labels(method, route(template), status).observe(0.01)

    def controller() -> None:
        for step in STEPS:
            controller_metrics.STEP_SECONDS.labels(step).observe(10)
        for kind in ("job", "lease"):
            controller_metrics.HANDOVER_SECONDS.labels(kind).observe(0.02)
        controller_metrics.PASS_SECONDS.observe(0.005)
        controller_metrics.IS_LEADER.set(1)

    for fill in (worker, worker, controller):  # each in a process of its own, as in `sched run`
        pid = os.fork()
        if pid == 0:
            fill()
            os._exit(0)
        os.waitpid(pid, 0)


def _responder(node, method: str) -> bool:  # as tests/e2e/test_openapi.py reads falcon's router
    fn = node.method_map.get(method)
    return fn is not None and getattr(fn, "__name__", "") != "method_not_allowed"


def _routes(nodes):
    for node in nodes:
        if node.resource is not None:
            yield node
        yield from _routes(node.children)


def timed(fn, reads: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each call (CPU time is what a busy machine inflates least)."""
    wall, cpu = [], []
    for _ in range(reads):
        start, used = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--scrapes", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1,000 jobs, 10 scrapes")
    args = ap.parse_args()
    if args.quick:
        args.jobs, args.scrapes = 1000, 10
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        token = setup(Path(tmp), args.jobs)
        filled = time.perf_counter() - start
        app = create_app(storage=Path(tmp) / "storage")
        fill_histograms(app)
        client = TestClient(app)

        def scrape() -> None:
            r = client.simulate_get("/metrics")
            assert r.status_code == 200 and "fastpath_suts" in r.text, r.text[:200]

        def sutclasses_get() -> None:
            r = client.simulate_get("/sutclasses", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.json

        def census_alone() -> None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(Census(time.time))
            generate_latest(registry)

        def files_alone() -> None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(Forward(process_registry()))
            generate_latest(registry)

        scrape()  # warm: the first read opens the database
        whole = timed(scrape, args.scrapes)
        gauges = timed(census_alone, args.scrapes)
        files = timed(files_alone, args.scrapes)
        listing = timed(sutclasses_get, args.scrapes)
        size = len(client.simulate_get("/metrics").text)
        n_files = len(list(Path(WORK.name).glob("*.db")))
    print(machine())
    print(f"{CLASSES * PER_CLASS} SUTs in {CLASSES} classes, {args.jobs} finished jobs, "
          f"{CLASSES * 100} ended leases (filled in {filled:.1f} s); a scrape is {size} bytes, "
          f"{n_files} metric files\n")

    def row(name: str, values: tuple[list[float], list[float]]) -> list:
        wall, cpu = values
        return [name, round(median(wall) * 1e3, 2), round(percentile(wall, 95) * 1e3, 2),
                round(median(cpu) * 1e3, 2)]

    table(["measure", "median ms", "p95 ms", "CPU median ms"], [
        row(f"GET /metrics ({args.scrapes} scrapes)", whole),
        row("  the database gauges alone", gauges),
        row("  the metric files alone", files),
        row("GET /sutclasses, same data", listing),
    ])
    print(f"\ntarget: GET /metrics <= 50 ms; median / target = {median(whole[0]) * 1e3 / 50:.2f} "
          f"(CPU: {median(whole[1]) * 1e3 / 50:.2f}); GET /metrics / GET /sutclasses = "
          f"{median(whole[0]) / median(listing[0]):.2f}")


if __name__ == "__main__":
    try:
        main()
    finally:
        WORK.cleanup()
