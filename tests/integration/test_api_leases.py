"""`/leases` on every backend: requests, the guide's listing defaults, ownership, states."""

from __future__ import annotations

import pytest

from fastpath.store.models import Lease, Sut, Usage
from fastpath.store.queries import leases, suts
from tests.integration.api_helpers import Api, declare, make_healthy


@pytest.fixture
def api(database, clock, tmp_path):
    api = Api(clock, tmp_path)
    declare(tmp_path, {"demo": 2}, clock())
    make_healthy(clock())
    api.user("alice", "exec,query")
    api.user("bob", "lease,query")
    api.user("dave", "lease")
    return api


def acquire(api, who="bob", **body):
    r = api.post("/leases", {"sutclass": "demo", **body}, who=who)
    assert r.status_code == 201, r.json
    return r.json["lease"]


def grant(lease_id, sut="demo-01", clock=None):
    assert leases.grant_lease(lease_id, Sut.get(Sut.name == sut).id, clock())


def test_request_and_wait(api, clock):
    lease = acquire(api)
    assert lease["state"] == "queued" and lease["sut"] is None and lease["position"] == 1
    assert lease["priority"] == 5 and lease["user"] == "bob"
    grant(lease["id"], clock=clock)
    got = api.get(f"/leases/{lease['id']}", who="bob", wait="10").json["lease"]
    assert got["state"] == "acquired"
    assert got["sut"] == {"name": "demo-01", "host": "192.0.2.1", "port": 22, "user": "fpuser",
                          "host_key": None}


def test_long_poll_times_out_still_queued(api, clock):
    lease = acquire(api)
    before = clock()
    got = api.get(f"/leases/{lease['id']}", who="bob", wait="5").json["lease"]
    assert got["state"] == "queued" and clock() - before >= 5


@pytest.mark.parametrize("wait", ["61", "-1", "soon", "1e9"])
def test_bad_wait(api, wait):
    lease = acquire(api)
    r = api.get(f"/leases/{lease['id']}", who="bob", wait=wait)
    assert r.status_code == 400 and "wait" in r.json["description"]


def test_positions_follow_priority(api):
    a = acquire(api)
    b = acquire(api, who="dave", priority=9)
    assert api.get(f"/leases/{a['id']}").json["lease"]["position"] == 2
    assert api.get(f"/leases/{b['id']}").json["lease"]["position"] == 1


@pytest.mark.parametrize("body, words", [
    ({"sutclass": "nope"}, "no SUT class named 'nope'"),
    ({"sutclass": "demo", "priority": 11}, "priority"),
    ({"sutclass": "demo", "priority": -1}, "priority"),
    ({"sutclass": "demo", "priority": True}, "priority"),
    ({"sutclass": "demo", "priority": 10**30}, "priority"),
    ({"sutclass": 5}, "sutclass"),
    ({}, "sutclass: required"),
    ({"sutclass": "demo", "sut": "demo-01"}, "unknown field 'sut'"),
])
def test_bad_requests_store_nothing(api, body, words):
    r = api.post("/leases", body, who="bob")
    assert r.status_code in (400, 404) and words in r.json["description"]
    assert Lease.select().count() == 0


def test_listing_defaults_of_the_guide(api, clock):
    mine = acquire(api)
    theirs = acquire(api, who="dave")
    grant(mine["id"], clock=clock)
    api.post(f"/leases/{mine['id']}/release", who="bob")
    again = acquire(api)

    def ids(who="bob", **params):
        r = api.get("/leases", who=who, **params)
        assert r.status_code == 200, r.json
        return [x["id"] for x in r.json["leases"]]

    assert ids() == [again["id"]]  # own, queued or acquired
    assert ids(all_states="true") == [mine["id"], again["id"]]
    assert ids(all_users="true") == [theirs["id"], again["id"]]
    assert ids(all_users="true", all_states="true") == [mine["id"], theirs["id"], again["id"]]
    assert ids(states="released") == [mine["id"]]
    assert ids(users="dave") == [theirs["id"]]
    assert ids(users="dave,bob", states="queued,released") == [mine["id"], theirs["id"], again["id"]]
    assert ids(who="dave") == [theirs["id"]]  # lease alone may read
    assert api.get("/leases", who="bob", states="bogus").status_code == 400
    for blank_or_bad in ("", "maybe"):  # a flag is true or false, never a blank
        r = api.get("/leases", who="bob", all_users=blank_or_bad)
        assert r.status_code == 400 and "all_users" in str(r.json), r.json
    r = api.get("/leases", who="bob", users="nobody")
    assert r.status_code == 404 and "no user named 'nobody'" in r.json["description"]


def test_release_rules(api, clock):
    lease = acquire(api)
    other = acquire(api, who="dave")
    r = api.post(f"/leases/{other['id']}/release", who="bob")
    assert r.status_code == 403 and "belongs to another user" in r.json["description"]
    assert api.post(f"/leases/{other['id']}/release", who="alice").status_code == 403  # no lease cap
    grant(lease["id"], clock=clock)
    r = api.post(f"/leases/{lease['id']}/release", who="bob")
    assert r.status_code == 200 and r.json["lease"]["state"] == "released"
    usage = Usage.get(Usage.ref == lease["id"])
    assert usage.ended_at == clock()
    r = api.post(f"/leases/{lease['id']}/release", who="bob")
    assert r.status_code == 409 and "already released" in r.json["description"]
    r = api.post(f"/leases/{other['id']}/release")  # an admin may release anyone's
    assert r.status_code == 200 and r.json["lease"]["state"] == "cancelled"
    assert api.post("/leases/999/release").status_code == 404


def test_a_sut_is_never_granted_twice(api, clock):
    a, b = acquire(api), acquire(api, who="dave")
    grant(a["id"], clock=clock)
    assert not leases.grant_lease(b["id"], Sut.get(Sut.name == "demo-01").id, clock())
    assert not leases.grant_lease(a["id"], Sut.get(Sut.name == "demo-02").id, clock())  # not queued
    assert Lease.get_by_id(b["id"]).state == "queued"


def test_unhealthy_or_maintenance_suts_are_not_granted(api, clock):
    lease = acquire(api)
    sut = Sut.get(Sut.name == "demo-01")
    suts.record_failure(sut.id, clock(), "down", base=5, cap=300)
    assert not leases.grant_lease(lease["id"], sut.id, clock())


def test_disabled_class_takes_no_new_leases(api, clock, tmp_path):
    declare(tmp_path, {"other": 1}, clock())
    r = api.post("/leases", {"sutclass": "demo"}, who="bob")
    assert r.status_code == 409 and "disabled" in r.json["description"]


def test_a_retried_request_makes_one_lease(api):
    key = {"Idempotency-Key": "try-1"}
    first = api.post("/leases", {"sutclass": "demo"}, who="bob", headers=key)
    again = api.post("/leases", {"sutclass": "demo"}, who="bob", headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["lease"]["id"] == again.json["lease"]["id"]
    other = api.post("/leases", {"sutclass": "demo"}, who="dave", headers=key)  # keys are per user
    assert other.status_code == 201 and other.json["lease"]["id"] != first.json["lease"]["id"]
    bad = api.post("/leases", {"sutclass": "demo"}, who="bob", headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json["description"]
    assert Lease.select().count() == 2


def test_settled_names_the_waiting_leases_that_left_the_queue(api, clock):
    # the waiting room's check: any number of ids, in statements of a fixed shape
    granted, queued, cancelled = (acquire(api)["id"] for _ in range(3))
    grant(granted, clock=clock)
    assert api.post(f"/leases/{cancelled}/release", who="bob").status_code == 200
    missing = list(range(10**6, 10**6 + leases.CHUNK + 7))  # spills into a second, short chunk
    assert leases.settled([queued, granted, *missing, cancelled]) == {granted, cancelled}
    assert leases.settled([]) == set() and leases.settled([queued]) == set()
