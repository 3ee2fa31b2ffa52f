"""`/users`, authentication and capabilities, on every database backend."""

from __future__ import annotations

import pytest

from fastpath.store.models import Event, User
from tests.integration.api_helpers import Api


@pytest.fixture
def api(database, clock, tmp_path):
    return Api(clock, tmp_path)


def test_create_user_exactly_as_documented(api):
    r = api.post("/users", {"name": "alice", "capabilities": "lease,query,exec"})
    assert r.status_code == 201
    assert set(r.json) == {"status", "user_id", "token"}
    assert r.json["status"] == "success" and isinstance(r.json["user_id"], int)
    token = r.json["token"]
    me = api.get("/sutclasses", who=token)
    assert me.status_code == 200
    stored = User.get(User.name == "alice")
    assert token not in (stored.token_hash, stored.capabilities)  # only the hash is kept
    assert stored.capabilities == "exec,lease,query"


def test_first_admin_is_made_once(api, clock):
    from fastpath.store.queries import users

    assert users.ensure_admin(clock()) is None
    assert User.select().where(User.name == "admin").count() == 1
    assert User.get(User.name == "admin").capabilities == "admin,exec,lease,query"


@pytest.mark.parametrize("body, status, words", [
    ({"name": "alice", "capabilities": "exec,fly"}, 400, "unknown 'fly'"),
    ({"name": "", "capabilities": "exec"}, 400, "name"),
    ({"name": "a b", "capabilities": "exec"}, 400, "name"),
    ({"name": "x" * 65, "capabilities": "exec"}, 400, "name"),
    ({"name": "alice"}, 400, "capabilities: required"),
    ({"name": "alice", "capabilities": "exec", "admin": True}, 400, "unknown field 'admin'"),
    ({"name": 7, "capabilities": "exec"}, 400, "name"),
    ({"name": "alice", "capabilities": ["exec"]}, 400, "capabilities"),
    ([1, 2], 400, "expected a JSON object"),
])
def test_bad_user_requests(api, body, status, words):
    before = User.select().count()
    r = api.post("/users", body)
    assert r.status_code == status, r.json
    assert r.json["status"] == "error" and words in r.json["description"]
    assert User.select().count() == before  # nothing half-written


def test_duplicate_user_is_a_conflict(api):
    api.user("alice", "exec")
    r = api.post("/users", {"name": "alice", "capabilities": "query"})
    assert r.status_code == 409 and "already exists" in r.json["description"]


def test_malformed_and_oversized_bodies(api):
    r = api.post("/users", "{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json["description"]
    r = api.post("/users", b"x" * (1024 * 1024 + 10), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = api.post("/users", "\xff\xfe", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer not-a-token"}])
def test_missing_or_unknown_token_is_401(api, headers):
    r = api.client.simulate_get("/sutclasses", headers=headers)
    assert r.status_code == 401 and r.json["status"] == "error"
    assert r.headers.get("WWW-Authenticate") == "Bearer"


def test_public_endpoints_need_no_token(api):
    assert api.get("/healthz", who=None).json == {"status": "success", "database": "ok"}
    assert api.get("/openapi.json", who=None).json["openapi"].startswith("3.")


def test_capabilities_are_enforced(api):
    api.user("alice", "exec,query")
    api.user("bob", "lease,query")
    api.user("carol", "query")
    assert api.post("/users", {"name": "x", "capabilities": "exec"}, who="alice").status_code == 403
    assert api.get("/users", who="bob").status_code == 403
    assert api.post("/leases", {"sutclass": "demo"}, who="alice").status_code == 403
    r = api.post("/leases", {"sutclass": "demo"}, who="carol")
    assert r.status_code == 403 and "lacks the lease capability" in r.json["description"]
    assert api.get("/users").status_code == 200


def test_every_user_creation_is_in_the_event_log(api):
    api.user("alice", "exec")
    [event] = Event.select().where((Event.kind == "user") & (Event.actor == "admin"))
    assert event.detail == "exec"


def test_unknown_route(api):
    r = api.get("/nope")
    assert r.status_code == 404 and "no route for GET /nope" in r.json["description"]


def test_a_token_is_remembered_for_a_few_seconds_and_a_revocation_holds_after(api, clock):
    """Another process (a second worker, `fastpath sched admin-token`) changes the database:
    this one still answers from what it remembers, for TOKEN_TTL at most."""
    from fastpath.api.middleware import TOKEN_TTL
    from fastpath.store.queries import users

    bob = api.user("bob", "query")
    carol = api.user("carol", "query")
    admin = api.admin
    for token in (bob, carol, admin):
        assert api.get("/sutclasses", who=token).status_code == 200
    users.update_user(users.find_user("bob"), clock(), actor="elsewhere", disabled=True)
    users.rotate_token(users.find_user("carol"), clock(), actor="elsewhere")
    fresh_admin = users.rotate_admin_token(clock(), actor="elsewhere")
    clock.advance(TOKEN_TTL / 2)
    for token in (bob, carol, admin):  # remembered: no lookup
        assert api.get("/sutclasses", who=token).status_code == 200
    clock.advance(TOKEN_TTL / 2)
    for token in (bob, carol, admin):
        r = api.get("/sutclasses", who=token)
        assert r.status_code == 401 and r.json["description"] == "unknown token", r.json
    assert api.get("/sutclasses", who=fresh_admin).status_code == 200


def test_a_revocation_through_this_process_holds_at_once(api, clock):
    bob = api.user("bob", "query")
    carol = api.user("carol", "query")
    assert api.get("/sutclasses", who=bob).status_code == 200
    assert api.get("/sutclasses", who=carol).status_code == 200
    assert api.patch("/users/bob", {"disabled": True}).status_code == 200
    assert api.post("/users/carol/token").status_code == 200
    assert api.get("/sutclasses", who=bob).status_code == 401
    assert api.get("/sutclasses", who=carol).status_code == 401
