"""1,000 clients long-poll their leases while /healthz and releases must stay quick (issue 18).

    .venv/bin/python bench/waiters.py [--waiters 1000] [--suts 5]

A real `fastpath sched run` with default settings over SUTS testbed sshd's
(class `demo`, `boot: none`). The admin first holds every SUT; then WAITERS
leases of 4 users at priorities 2, 5 and 8 are queued, and one HTTP client
per lease (one process, asyncio, tests/e2e/rawhttp.py) long-polls it
(`GET /leases/{id}?wait=30`, again until it is acquired), then releases it
at once. While they wait, the admin releases its SUTs, and /healthz is asked
every 50 ms. Reported: /healthz and release latency (p50/p99), the API's and
the controller's CPU over the run, the time until every waiter was served,
and how many hand-overs broke priority order, from the event log (expected 0:
a higher priority is never passed over; fairness at equal priority depends on who holds the
other SUTs at that instant, so it is not scored here; tests/e2e/test_waiters.py
checks it exactly).
Targets (issue 18): all served in order; /healthz and release p99 < 100 ms;
the API under one core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import percentile  # noqa: E402
from sched_lab import Lab, children, cmdline, cpu_seconds  # noqa: E402

from tests.e2e.rawhttp import request  # noqa: E402

USERS = ("u0", "u1", "u2", "u3")
PRIORITIES = (2, 5, 8)


def cpu(lab: Lab) -> dict[str, float]:
    """CPU seconds of the controller and of the API with its gunicorn workers (grandchildren)."""
    out: dict[str, float] = {}
    for pid in children(lab.sched.proc.pid):
        verb = "controller" if " controller" in cmdline(pid) else "api"
        for p in [pid, *children(pid)]:
            try:
                out[verb] = out.get(verb, 0.0) + cpu_seconds(p)
            except (OSError, ValueError, IndexError):
                pass
    return out


def inversions(priorities: list[int]) -> int:
    """Hand-overs to a lease while one of higher priority (all were queued from the start) waited."""
    count, left = 0, sorted(priorities, reverse=True)
    for p in priorities:
        count += p < left[0]
        left.remove(p)
    return count


async def scenario(lab: Lab, waiters: int) -> dict:
    port = lab.sched.port
    admin = lab.sched.admin_token()
    tokens = {u: lab.sched.user(u, "lease,query") for u in USERS}

    async def call(method: str, path: str, token: str, body=None):
        return await request("127.0.0.1", port, method, path, token=token, body=body)

    async def acquired(lease_id: int, token: str) -> dict:
        while True:
            status, doc = await call("GET", f"/leases/{lease_id}?wait=30", token)
            if status != 200:
                raise SystemExit(f"GET /leases/{lease_id}: {status} {doc}")
            if doc["lease"]["state"] != "queued":
                return doc["lease"]

    held = []
    for _ in lab.bed.suts:
        status, doc = await call("POST", "/leases", admin, {"sutclass": "demo"})
        held.append((await acquired(doc["lease"]["id"], admin))["id"])
    made = []
    for n in range(waiters):
        user, priority = USERS[n % 4], PRIORITIES[(n // 4) % 3]
        status, doc = await call("POST", "/leases", tokens[user], {"sutclass": "demo", "priority": priority})
        made.append((doc["lease"]["id"], user, priority))
    releases: list[float] = []
    served: list[tuple[int, int]] = []  # (lease, priority) in the order served

    async def release(lease_id: int, token: str) -> None:
        t = time.perf_counter()
        status, doc = await call("POST", f"/leases/{lease_id}/release", token)
        releases.append(time.perf_counter() - t)
        if status != 200:
            raise SystemExit(f"release {lease_id}: {status} {doc}")

    async def waiter(lease_id: int, user: str, priority: int) -> None:
        await acquired(lease_id, tokens[user])
        served.append((lease_id, priority))
        await release(lease_id, tokens[user])

    health: list[float] = []
    done = asyncio.Event()

    async def healthz() -> None:
        while not done.is_set():
            t = time.perf_counter()
            await call("GET", "/healthz", admin)
            health.append(time.perf_counter() - t)
            await asyncio.sleep(0.05)

    tasks = [asyncio.ensure_future(waiter(*m)) for m in made]
    probe = asyncio.ensure_future(healthz())
    await asyncio.sleep(3)  # every waiter in its long-poll
    cpu0, t0 = cpu(lab), time.monotonic()
    for lease_id in held:
        await release(lease_id, admin)
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    cpu1 = cpu(lab)
    done.set()
    await probe
    ids = {i for i, _, _ in made}
    acquired = [(ref, prio) for ref, prio in lab.db.execute(  # in the order the controller acted
        "SELECT e.ref, l.priority FROM event e JOIN lease l ON l.id = e.ref WHERE e.kind = 'lease' "
        "AND e.new = 'acquired' ORDER BY e.id") if ref in ids]
    return {"elapsed": elapsed, "health": health, "releases": releases, "served": len(served),
            "inversions": inversions([p for _, p in acquired]),
            "cpu": {k: cpu1.get(k, 0) - cpu0.get(k, 0) for k in cpu1}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiters", type=int, default=1000)
    parser.add_argument("--suts", type=int, default=5)
    args = parser.parse_args()
    print(f"waiters: {args.waiters} long-polling clients on {args.suts} SUTs, default settings")
    with tempfile.TemporaryDirectory(prefix="fp-bench-waiters-") as tmp:
        lab = Lab(Path(tmp), args.suts, prefix="wt", net="127.0.21")
        try:
            lab.wait_healthy(120)
            r = asyncio.run(scenario(lab, args.waiters))
        finally:
            lab.close()
    ms = 1000
    print(f"served {r['served']}/{args.waiters} in {r['elapsed']:.1f}s "
          f"({r['served'] / r['elapsed']:.1f} hand-overs/s); priority inversions: {r['inversions']}")
    print(f"/healthz while waiting: p50 {percentile(r['health'], 50) * ms:.1f} ms, "
          f"p99 {percentile(r['health'], 99) * ms:.1f} ms (n={len(r['health'])}; target p99 < 100 ms)")
    print(f"release while waiting:  p50 {percentile(r['releases'], 50) * ms:.1f} ms, "
          f"p99 {percentile(r['releases'], 99) * ms:.1f} ms (n={len(r['releases'])}; target p99 < 100 ms)")
    for verb, seconds in sorted(r["cpu"].items()):
        print(f"{verb:10s} CPU {seconds:.1f}s = {seconds / r['elapsed'] * 100:.1f}% of one core")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
