"""`/suts` and `/users/{name}` on every backend: drains that outlast the file, users changed."""

from __future__ import annotations

import pytest
import yaml

from fastpath.core.sutclass import parse
from fastpath.store.models import Sut
from fastpath.store.queries import inventory
from tests.integration.api_helpers import Api, make_healthy


def classes(tmp_path, maintenance: set[str] = frozenset()):
    key = tmp_path / "key"
    key.write_text("x")
    doc = [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"demo-0{i}", **({"maintenance": True} if f"demo-0{i}" in maintenance else {}),
         "connection": {"method": "SSH", "params": {"host": f"192.0.2.{i}", "keyfile": str(key)}}}
        for i in (1, 2)]}}]
    return parse(yaml.safe_dump(doc), source="s.yaml", base=tmp_path)


@pytest.fixture
def api(database, clock, tmp_path):
    api = Api(clock, tmp_path / "storage")
    inventory.sync_inventory(classes(tmp_path), clock())
    make_healthy(clock())
    api.user("bob", "lease,query")
    return api


def health(name: str) -> str:
    return Sut.get(Sut.name == name).health


def test_a_drain_is_stored_and_outlasts_the_file_which_still_forces_maintenance(api, clock, tmp_path):
    assert api.patch("/suts/demo-01", {"maintenance": True}, who="bob").status_code == 403
    r = api.patch("/suts/demo-01", {"maintenance": True, "reason": "new DIMMs"})
    assert r.status_code == 200, r.json
    m = r.json["sut"]["maintenance"]
    assert r.json["sut"]["health"] == "maintenance"
    assert (m["drained"], m["drained_by"], m["reason"], m["declared"]) == (True, "admin", "new DIMMs", False)
    # a reload of an unchanged file keeps the drain
    inventory.sync_inventory(classes(tmp_path), clock())
    assert health("demo-01") == "maintenance"
    # maintenance: true on demo-02 forces it, and lifting an admin's drain there does not free it
    inventory.sync_inventory(classes(tmp_path, {"demo-02"}), clock())
    assert api.patch("/suts/demo-02", {"maintenance": True}).json["sut"]["health"] == "maintenance"
    lifted = api.patch("/suts/demo-02", {"maintenance": False}).json["sut"]
    assert lifted["health"] == "maintenance" and lifted["maintenance"]["declared"]
    # the line removed: demo-02 is probed again; demo-01's drain holds
    inventory.sync_inventory(classes(tmp_path), clock())
    assert health("demo-02") == "unknown" and health("demo-01") == "maintenance"
    listed = api.get("/suts", who="bob", sutclass="demo").json["suts"]
    assert [(s["name"], s["health"]) for s in listed] == [("demo-01", "maintenance"), ("demo-02", "unknown")]
    assert listed[0]["last_error"] == "drained by admin: new DIMMs"
    back = api.patch("/suts/demo-01", {"maintenance": False}).json["sut"]
    assert back["health"] == "unknown" and not back["maintenance"]["drained"]
    assert api.patch("/suts/demo-01", {"maintenance": "yes"}).status_code == 400
    assert api.get("/suts", sutclass="nope").status_code == 404
    assert api.patch("/suts/nope", {"maintenance": True}).status_code == 404


def test_users_are_changed_disabled_and_given_new_tokens(api):
    old = api.tokens["bob"]
    assert api.get("/leases", who="bob").status_code == 200
    r = api.client.simulate_patch("/users/bob", json={"capabilities": "query"},
                                  headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 403
    assert api.patch("/users/bob", {"capabilities": "query"}).json["user"]["capabilities"] == "query"
    assert api.post("/leases", {"sutclass": "demo"}, who="bob").status_code == 403
    assert api.patch("/users/bob", {"disabled": True}).json["user"]["disabled"] is True
    assert api.get("/leases", who="bob").status_code == 401  # at once
    api.patch("/users/bob", {"disabled": False})
    assert api.get("/leases", who="bob").status_code == 200
    new = api.post("/users/bob/token").json["token"]
    assert api.get("/leases", who=old).status_code == 401
    assert api.get("/leases", who=new).status_code == 200
    assert api.patch("/users/admin", {"disabled": True}).status_code == 400  # not oneself
    assert api.patch("/users/nobody", {"disabled": True}).status_code == 404
    assert [u["disabled"] for u in api.get("/users").json["users"]] == [False, False]


def test_events_are_the_audit_trail_with_filters(api, clock):
    from fastpath.store.queries import leases

    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    clock.advance(10)
    assert leases.grant_lease(lease["id"], Sut.get(Sut.name == "demo-01").id, clock())
    clock.advance(10)
    api.post(f"/leases/{lease['id']}/release", who="bob")
    api.patch("/suts/demo-02", {"maintenance": True, "reason": "fan"})
    every = api.get("/events", who="bob").json["events"]
    assert [e["id"] for e in every] == sorted(e["id"] for e in every)
    mine = api.get("/events", who="bob", user="bob", kind="lease").json["events"]
    assert [(e["actor"], e["from"], e["to"]) for e in mine] == [
        ("bob", None, "queued"), ("controller", "queued", "acquired"), ("bob", "acquired", "released")]
    assert mine[1]["detail"] == "demo-01"
    late = api.get("/events", who="bob", kind="lease", since=mine[1]["at"]).json["events"]
    assert [e["to"] for e in late] == ["acquired", "released"]
    paged = api.get("/events", who="bob", kind="lease", after=str(mine[0]["id"]), limit="1")
    assert [e["to"] for e in paged.json["events"]] == ["acquired"]
    drains = api.get("/events", who="bob", kind="sut", sutclass="demo").json["events"]
    assert drains[-1]["name"] == "demo-02" and drains[-1]["to"] == "maintenance"
    assert drains[-1]["actor"] == "admin" and drains[-1]["detail"] == "drained by admin: fan"
    assert api.get("/events", who="bob", sutclass="other").status_code == 404
    assert api.get("/events", who="bob", kind="nope").status_code == 400
    assert api.get("/events", who="bob", since="yesterday").status_code == 400


def test_an_admin_cannot_lock_themself_out(api):
    assert api.patch("/users/admin", {"capabilities": "query"}).status_code == 400
    assert api.get("/users").status_code == 200
