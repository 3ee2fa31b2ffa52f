"""No N+1 in any listing: the statements one request sends, counted on every backend.

Each listing is read with 1 record of each kind, then with 50 (classes, SUTs,
users, plans, leases, held and queued, each class with its own queue), and
must send the same number of statements. The change counter is moved before
each request, so that no cached queue explanation hides a per-class read.
"""

from __future__ import annotations

import pytest

from fastpath.core.states import LeaseState
from fastpath.store.models import Job, Sut
from fastpath.store.queries import base, inventory, jobs, leases, plans, users
from tests.integration.api_helpers import Api, declare, make_healthy
from tests.statements import statements

LISTINGS = [
    ("/sutclasses", {}),
    ("/sutclasses", {"from": "2026-01-01", "to": "2030-01-01"}),
    ("/leases", {"all_users": "true", "all_states": "true"}),
    ("/leases", {"all_users": "true"}),
    ("/plans", {"all_users": "true", "all_states": "true"}),
    ("/suts", {}),
    ("/users", {}),
    ("/events", {"limit": "1000"}),
]


def plan(sutclass: str, sessions: int, swprofiles: int = 1) -> dict:
    return {"sut": {"sutclass": sutclass}, "swprofiles": [{"name": f"p{i}"} for i in range(swprofiles)],
            "benchmarks": [{"include": "testing/busyloop.yaml"}],
            "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": sessions,
                                       "timeout": "1h"}}}


def counted(api: Api, path: str, params: dict) -> int:
    base.bump()  # a cold queue cache: every class is explained afresh
    with statements() as sent:
        r = api.get(path, **params)
    assert r.status_code == 200, r.json
    return len(sent)


def populate(clock, tmp_path, first: int, last: int) -> None:
    """Classes first..last-1, each with its own user, a held and a queued lease, a plan with a
    job on a SUT and jobs queued, and a queued plan (made by the queries: the API's answers
    would explain each queue as they go, which this test does not measure)."""
    declare(tmp_path, {f"c{i:02d}": 2 for i in range(last)}, clock(), boot="none")
    make_healthy(clock())
    for i in range(first, last):
        name = f"c{i:02d}"
        user, _ = users.create_user(f"u{i:02d}", "lease,exec,query", clock(), actor="test")
        cls = inventory.get_class(name)
        held, _ = leases.request_lease(user, name, 5, clock())
        assert leases.grant_lease(held.id, Sut.get(Sut.name == f"{name}-01").id, clock())
        leases.request_lease(user, name, 5, clock())
        running = plans.create_plan(user, cls, plan(name, 3), [(0, s) for s in range(3)], 5, True,
                                    clock())
        first_job = Job.select().where(Job.plan == running.id).order_by(Job.id).first()
        assert jobs.assign_job(first_job.id, Sut.get(Sut.name == f"{name}-02").id, clock())
        plans.create_plan(user, cls, plan(name, 2), [(0, s) for s in range(2)], 5, True, clock())
        clock.advance(1)


@pytest.fixture
def api(database, clock, tmp_path):
    return Api(clock, tmp_path / "storage")


def test_every_listing_costs_the_same_for_1_and_for_50_records(api, clock, tmp_path):
    populate(clock, tmp_path, 0, 1)
    one = {(path, tuple(params)): counted(api, path, params) for path, params in LISTINGS}
    populate(clock, tmp_path, 1, 50)
    fifty = {(path, tuple(params)): counted(api, path, params) for path, params in LISTINGS}
    assert fifty == one
    listed = api.get("/leases", all_users="true").json["leases"]
    assert len(listed) == 100 and all(x["sut"] for x in listed if x["state"] == LeaseState.ACQUIRED)
    assert len({x["position"] for x in listed if x["state"] == LeaseState.QUEUED}) == 1  # alike


def test_50_queued_leases_behind_a_10000_job_plan_cost_what_1_does(api, clock, tmp_path):
    declare(tmp_path, {"demo": 2}, clock(), boot="none")
    make_healthy(clock())
    api.user("alice", "exec,query")
    api.user("bob", "lease,query")
    r = api.post("/plans", {"plan": plan("demo", 100, swprofiles=100)}, who="alice")
    assert r.status_code == 201, r.json
    clock.advance(1)

    bob = users.find_user("bob")

    def ask(n: int) -> None:  # not through the API: each answer would explain the queue again
        for _ in range(n):
            leases.request_lease(bob, "demo", 5, clock())

    ask(1)
    one = [counted(api, "/leases", {"all_users": "true"}), counted(api, "/plans", {})]
    ask(49)
    fifty = [counted(api, "/leases", {"all_users": "true"}), counted(api, "/plans", {})]
    assert fifty == one
    listed = api.get("/leases", all_users="true").json["leases"]
    # fairness: bob's leases and alice's jobs alternate, the first job is served first
    assert [x["position"] for x in listed] == list(range(2, 101, 2))
