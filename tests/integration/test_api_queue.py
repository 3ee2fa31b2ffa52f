"""Why a queued lease or plan waits, on every backend: the reason, the position, the estimate."""

from __future__ import annotations

import pytest

from fastpath.core import explain
from fastpath.core.states import JobState
from fastpath.store.models import Job, Sut
from fastpath.store.queries import jobs, leases, suts
from tests.integration.api_helpers import Api, declare, make_healthy

PLAN = {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "base"}],
        "benchmarks": [{"include": "testing/busyloop.yaml"}],
        "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": 3, "timeout": "1h"}}}


@pytest.fixture
def api(database, clock, tmp_path):
    api = Api(clock, tmp_path / "storage")
    declare(tmp_path, {"demo": 2}, clock(), boot="none")
    make_healthy(clock())
    api.user("alice", "exec,query")
    api.user("bob", "lease,query")
    return api


def sut(name: str) -> int:
    return Sut.get(Sut.name == name).id


def lease(api, who="bob") -> dict:
    r = api.post("/leases", {"sutclass": "demo"}, who=who)
    assert r.status_code == 201, r.json
    return r.json["lease"]


def plan(api, who="alice") -> dict:
    r = api.post("/plans", {"plan": PLAN}, who=who)
    assert r.status_code == 201, r.json
    return r.json["plan"]


def test_a_plan_behind_two_leases_names_them_and_learns_its_eta(api, clock):
    held = [lease(api), lease(api)]
    for x, name in zip(held, ("demo-01", "demo-02"), strict=True):
        assert leases.grant_lease(x["id"], sut(name), clock())
    p = plan(api)
    q = api.get(f"/plans/{p['id']}", who="bob").json["plan"]["queue"]
    until = clock() + 4 * 3600  # the class's default lease duration
    assert q["position"] == 1 and q["eta"] == _iso(until)
    words = explain.clock(until, clock())
    assert q["reason"] == (f"2 SUTs in demo: demo-01 leased by bob until {words}, "
                           f"demo-02 leased by bob until {words}")
    waiting = lease(api)  # behind the plan's three jobs
    got = api.get(f"/leases/{waiting['id']}", who="bob").json["lease"]
    assert got["position"] == 4 and "3 ahead in the queue" in got["reason"]
    assert [x.get("position") for x in api.get("/leases", who="bob").json["leases"]] == [None, None, 4]

    # one SUT comes back and a first job runs 100 s: the others are expected from that
    api.post(f"/leases/{held[0]['id']}/release", who="bob")
    first = Job.select().where(Job.plan == p["id"]).order_by(Job.id).first()
    assert jobs.assign_job(first.id, sut("demo-01"), clock())
    clock.advance(100)
    jobs.finish_job(jobs.get_job(first.id), JobState.COMPLETED, clock(), publish=False)
    second = Job.select().where((Job.plan == p["id"]) & (Job.id > first.id)).order_by(Job.id).first()
    assert jobs.assign_job(second.id, sut("demo-01"), clock())
    clock.advance(30)
    q = api.get(f"/plans/{p['id']}", who="bob").json["plan"]["queue"]
    assert q["job"] == second.id + 1 and q["position"] == 1
    assert f"demo-01 running plan {p['id']} job {second.id}, expected until" in q["reason"]
    assert q["eta"] == _iso(clock() + 70)  # 100 s learnt, 30 s done
    listed = api.get("/plans", who="alice").json["plans"]
    assert listed[0]["queue"] == q


def test_unhealthy_suts_say_since_when_and_a_free_sut_is_next(api, clock):
    suts.record_failure(sut("demo-02"), clock(), "ssh: connection refused", base=1, cap=2)
    x = lease(api)
    assert x["position"] == 1 and x["eta"] == _iso(clock())
    assert "demo-01 free, demo-02 unhealthy since" in x["reason"]
    assert x["reason"].endswith("next to be served")


def _iso(t: float) -> str:
    from fastpath.api.views import iso

    return iso(t)
