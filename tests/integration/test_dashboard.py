"""The dashboard's pages over the real app and database: login, what each page shows, escaping."""

from __future__ import annotations

import pytest

from fastpath.api.middleware import COOKIE
from fastpath.store.models import Sut
from fastpath.store.queries import leases
from tests.integration.api_helpers import Api, declare, make_healthy

XSS = "<script>alert(1)</script>"
PLAN = {"sut": {"sutclass": "demo", "name": XSS}, "swprofiles": [{"name": "base"}],
        "benchmarks": [{"include": "testing/busyloop.yaml"}],
        "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": 2, "timeout": "1h"}}}


@pytest.fixture
def api(sqlite_database, clock, tmp_path):
    api = Api(clock, tmp_path / "storage")
    declare(tmp_path, {"demo": 2, "other": 1}, clock(), boot="none")
    make_healthy(clock())
    api.user("alice", "exec,lease,query")
    api.user("bob", "lease")
    return api


def login(api, who: str = "admin", **headers) -> object:
    return api.client.simulate_post("/ui/login", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                          **headers},
                                    body=f"token={api.tokens[who]}&next=/ui/leases")


def page(api, path: str, token: str | None, **headers):
    cookies = {COOKIE: token} if token else None
    return api.client.simulate_get(path, cookies=cookies, headers=headers or None)


def test_pages_need_the_login_cookie_and_the_login_sets_it(api):
    r = page(api, "/ui/plans/1", None)
    assert r.status_code == 303 and r.headers["Location"] == "/ui/login?next=%2Fui%2Fplans%2F1"
    assert page(api, "/", "fpt_nonsense").status_code == 303
    r = login(api)
    assert r.status_code == 303 and r.headers["Location"] == "/ui/leases"
    cookie = r.cookies[COOKIE]
    assert cookie.value == api.tokens["admin"] and cookie.http_only and cookie.same_site == "Strict"
    assert cookie.path == "/"
    assert page(api, "/", cookie.value).status_code == 200
    out = api.client.simulate_post("/ui/logout", cookies={COOKIE: cookie.value})
    assert out.status_code == 303 and out.cookies[COOKIE].value == ""


def test_a_login_is_refused_without_query_from_another_site_or_to_another_host(api):
    r = login(api, "bob")
    assert r.status_code == 401 and "lacks the query capability" in r.text and COOKIE not in r.cookies
    assert login(api, "alice", Origin="https://evil.example").status_code == 403
    assert login(api, "alice", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    r = api.client.simulate_post("/ui/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 body=f"token={api.tokens['alice']}&next=//evil.example/")
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert page(api, "/", api.tokens["bob"]).status_code == 303  # a cookie without query


def test_the_api_never_takes_the_cookie(api):
    r = page(api, "/sutclasses", api.tokens["admin"])
    assert r.status_code == 401


def test_overview_tiles_hold_state_and_holder_and_the_queue(api, clock):
    held = api.post("/leases", {"sutclass": "demo"}, who="alice").json["lease"]
    assert leases.grant_lease(held["id"], Sut.get(Sut.name == "demo-01").id, clock())
    api.post("/leases", {"sutclass": "demo"}, who="alice")
    api.post("/leases", {"sutclass": "demo"}, who="alice")  # one SUT is free: only its lease is served
    Sut.update(health="unhealthy", reason="ssh: connection refused").where(Sut.name == "demo-02").execute()
    clock.advance(90)
    html = page(api, "/", api.tokens["alice"]).text
    assert 'data-sut="demo-01" data-state="lease"' in html and f"lease {held['id']} · alice" in html
    assert 'data-sut="demo-02" data-state="unhealthy"' in html and "connection refused" in html
    assert 'data-sut="other-01" data-state="free"' in html
    assert '<dd class="queue">2</dd>' in html and "<dd>1m 30s</dd>" in html
    fragment = page(api, "/", api.tokens["alice"], **{"FP-Fragment": "1"}).text
    assert fragment.lstrip().startswith("<h1>Overview</h1>") and "<html" not in fragment
    queue = page(api, "/ui/sutclasses/demo", api.tokens["alice"]).text
    assert "<td>1</td><td>lease 2</td><td>alice</td>" in queue and "<td>2</td><td>lease 3</td>" in queue


def test_a_plan_name_is_text_not_markup_on_every_page(api):
    r = api.post("/plans", {"plan": PLAN}, who="alice")
    assert r.status_code == 201, r.json
    for path in ("/ui/plans?all_users=true", f"/ui/plans/{r.json['plan']['id']}"):
        html = page(api, path, api.tokens["alice"]).text
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    policy = page(api, "/ui/plans", api.tokens["alice"]).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy


def test_sut_and_leases_pages(api, clock):
    held = api.post("/leases", {"sutclass": "other"}, who="alice").json["lease"]
    assert leases.grant_lease(held["id"], Sut.get(Sut.name == "other-01").id, clock())
    html = page(api, "/ui/leases", api.tokens["alice"]).text
    assert f'data-lease="{held["id"]}"' in html and "other-01" in html and "(in 4h 00m)" in html
    sut = page(api, "/ui/suts/other-01", api.tokens["alice"]).text
    assert f"lease {held['id']} · alice" in sut and "<td>lease 1</td><td>alice</td>" in sut
    missing = page(api, "/ui/suts/nope", api.tokens["alice"])
    assert missing.status_code == 404 and "no SUT named &#39;nope&#39;" in missing.text
    assert page(api, "/ui/plans?states=bogus", api.tokens["alice"]).status_code == 400
    assert api.get("/plans/99").json["status"] == "error"  # the API's refusals stay JSON
    assert page(api, "/ui/static/dashboard.js", None).status_code == 200
