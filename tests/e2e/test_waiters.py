"""300 clients long-poll their leases at once, against a real `fastpath sched run` (issue 18).

Each waiter is an HTTP client in this one process (tests/e2e/rawhttp.py), so
the scheduler sees 300 open long-polls while its API has only its default
threads. The class has two SUTs: one is held by u0 for the whole test, so at
equal priority the fairness rule (fewest SUTs held in the class) puts u0's
leases behind the others'; the other SUT is handed from waiter to waiter,
each releasing it as soon as it has it. The order in which the leases were
acquired must then be exactly (priority, SUTs held, age), and a release made
while all 300 wait must be acted on. No timing is asserted.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.rawhttp import request

pytestmark = pytest.mark.slow

WAITERS = 300
USERS = ("u0", "u1", "u2", "u3")
PRIORITIES = (2, 5, 8)


def test_300_waiters_are_served_in_priority_and_fairness_order(scheduler):
    s = scheduler(count=2)
    s.start()
    admin = s.login()
    tokens = {u: s.user(u, "lease,query") for u in USERS}
    asyncio.run(_run(s, admin, tokens))


async def _run(s, admin: str, tokens: dict[str, str]) -> None:
    port = s.port

    async def call(method: str, path: str, token: str, body=None):
        return await request("127.0.0.1", port, method, path, token=token, body=body)

    async def acquired(lease_id: int, token: str) -> dict:
        while True:
            status, doc = await call("GET", f"/leases/{lease_id}?wait=30", token)
            assert status == 200, doc
            if doc["lease"]["state"] != "queued":
                return doc["lease"]

    async def take(token: str) -> dict:
        status, doc = await call("POST", "/leases", token, {"sutclass": "demo"})
        assert status == 201, doc
        return await acquired(doc["lease"]["id"], token)

    held_by_u0 = await take(tokens["u0"])  # held to the end: u0 holds one SUT in the class
    held_by_admin = await take(admin)  # the other SUT, released while all wait
    assert held_by_u0["state"] == held_by_admin["state"] == "acquired"

    made = []  # (id, user, priority), in the order queued: ids grow with age
    for n in range(WAITERS):
        user, priority = USERS[n % len(USERS)], PRIORITIES[(n // len(USERS)) % len(PRIORITIES)]
        status, doc = await call("POST", "/leases", tokens[user], {"sutclass": "demo", "priority": priority})
        assert status == 201 and doc["lease"]["state"] == "queued", doc
        made.append((doc["lease"]["id"], user, priority))

    served: list[int] = []
    polling = asyncio.Event()
    started = 0

    async def waiter(lease_id: int, user: str) -> None:
        nonlocal started
        started += 1
        if started == WAITERS:
            polling.set()
        lease = await acquired(lease_id, tokens[user])
        assert lease["state"] == "acquired", lease
        served.append(lease_id)
        status, doc = await call("POST", f"/leases/{lease_id}/release", tokens[user])
        assert status == 200 and doc["lease"]["state"] == "released", doc

    tasks = [asyncio.ensure_future(waiter(i, u)) for i, u, _ in made]
    await polling.wait()
    await asyncio.sleep(1)  # let their long-polls reach the server (not a timing assertion)
    status, doc = await call("GET", "/healthz", admin)
    assert status == 200, doc
    status, doc = await call("GET", f"/leases/{made[0][0]}", admin)
    assert doc["lease"]["state"] == "queued" and not served  # nobody was served early
    status, doc = await call("POST", f"/leases/{held_by_admin['id']}/release", admin)
    assert status == 200 and doc["lease"]["state"] == "released", doc  # acted on while 300 wait
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=1800)  # a hang guard, not a target

    held = {u: 1 if u == "u0" else 0 for u in USERS}  # at each hand-over, only u0 holds a SUT
    expected = [i for i, _, _ in sorted(made, key=lambda m: (-m[2], held[m[1]], m[0]))]
    assert served == expected
    status, doc = await call("GET", "/leases?all_users=true", admin)
    assert {x["id"] for x in doc["leases"]} == {held_by_u0["id"]}  # nothing else active
    status, doc = await call("POST", f"/leases/{held_by_u0['id']}/release", tokens["u0"])
    assert status == 200
