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
