"""SUT classes: declarative sync, listing, usage now and over a window (every backend)."""

from __future__ import annotations

import pytest
import yaml

from fastpath.core.sutclass import parse
from fastpath.store.models import Sut
from fastpath.store.queries import inventory, leases, suts
from tests.integration.api_helpers import Api, declare, make_healthy


@pytest.fixture
def api(database, clock, tmp_path):
    return Api(clock, tmp_path)


def test_listing_shows_id_name_enabled_usage_created(api, clock, tmp_path):
    declare(tmp_path, {"demo": 2, "big": 3}, clock())
    r = api.get("/sutclasses")
    assert r.status_code == 200
    rows = {c["name"]: c for c in r.json["sutclasses"]}
    assert rows["demo"]["enabled"] is True and rows["demo"]["usage"] == {"in_use": 0, "total": 2}
    assert rows["big"]["usage"]["total"] == 3 and rows["demo"]["created_at"].endswith("Z")


def test_no_output_reveals_the_ssh_key(api, clock, tmp_path):
    declare(tmp_path, {"demo": 2}, clock())
    make_healthy(clock())
    api.user("bob", "lease,query")
    # ids are not reset between tests on PostgreSQL and MariaDB: use the one given
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]["id"]
    leases.grant_lease(lease, Sut.get(Sut.name == "demo-01").id, clock())
    texts = [api.get("/sutclasses").text, api.get("/sutclasses/demo").text,
             api.get("/leases", all_users="true").text, api.get(f"/leases/{lease}").text]
    for text in texts:
        assert "keyfile" not in text and str(tmp_path / "key") not in text


def test_sync_is_declarative_and_never_deletes(api, clock, tmp_path):
    declare(tmp_path, {"demo": 2, "old": 1}, clock())
    clock.advance(60)
    declare(tmp_path, {"demo": 3}, clock())  # demo grows, old disappears
    classes = {c.name: c for c in inventory.list_classes()}
    assert classes["old"].enabled is False
    health = {s.name: s.health for s in Sut.select()}
    assert health == {"demo-01": "unknown", "demo-02": "unknown", "demo-03": "unknown",
                    "old-01": "retired"}
    r = api.get("/sutclasses/old")
    assert r.json["sutclass"]["enabled"] is False and r.json["sutclass"]["suts"] == []
    declare(tmp_path, {"demo": 3, "old": 1}, clock())  # it comes back
    assert inventory.get_class("old").enabled is True
    assert Sut.get(Sut.name == "old-01").health == "unknown"


def test_maintenance_and_changed_connections(api, clock, tmp_path):
    key = tmp_path / "key"
    key.write_text("x")

    def doc(host="192.0.2.1", maintenance=False):
        return yaml.safe_dump([{"sutclass": "demo", "type": "static", "params": {"suts": [
            {"name": "demo-01", "maintenance": maintenance, "connection": {"method": "SSH", "params": {
                "host": host, "keyfile": str(key)}}}]}}])

    inventory.sync_inventory(parse(doc(), source="s", base=tmp_path), clock())
    make_healthy(clock())
    suts.pin_host_key(Sut.get().id, "ssh-ed25519 AAAA")
    inventory.sync_inventory(parse(doc(maintenance=True), source="s", base=tmp_path), clock())
    assert Sut.get().health == "maintenance"
    inventory.sync_inventory(parse(doc(), source="s", base=tmp_path), clock())
    assert Sut.get().health == "unknown" and Sut.get().host_key == "ssh-ed25519 AAAA"
    inventory.sync_inventory(parse(doc(host="192.0.2.9"), source="s", base=tmp_path), clock())
    sut = Sut.get()
    assert (sut.host, sut.host_key, sut.health) == ("192.0.2.9", None, "unknown")


def test_usage_over_a_window(api, clock, tmp_path):
    t0 = clock()
    declare(tmp_path, {"demo": 2}, t0)
    make_healthy(t0)
    api.user("bob", "lease,query")
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    clock.advance(100)
    assert leases.grant_lease(lease["id"], Sut.get(Sut.name == "demo-01").id, clock())
    clock.advance(100)
    api.post(f"/leases/{lease['id']}/release", who="bob")
    clock.advance(200)
    # 2 SUTs over 400 s = 800 SUT-seconds, 100 of them in use
    window = {"from": _iso(t0), "to": _iso(t0 + 400)}
    r = api.get("/sutclasses", **window)
    assert r.json["sutclasses"][0]["usage"]["window"]["share"] == pytest.approx(0.125)
    r = api.get("/sutclasses/demo", **{"from": _iso(t0 + 150), "to": _iso(t0 + 250)})
    assert r.json["sutclass"]["usage"]["window"]["share"] == pytest.approx(0.25)
    assert api.get("/sutclasses", **{"from": "2026-13-01"}).status_code == 400
    r = api.get("/sutclasses", **{"from": _iso(t0 + 10), "to": _iso(t0)})
    assert r.status_code == 400 and "later than from" in r.json["description"]


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat()


def test_unknown_class(api):
    r = api.get("/sutclasses/nope")
    assert r.status_code == 404 and "no SUT class named 'nope'" in r.json["description"]
