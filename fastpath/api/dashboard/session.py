"""Dashboard login and logout: a scheduler token kept in an HttpOnly, SameSite=Strict cookie.

The dashboard is read-only, so the login and logout forms are the only
writes a browser makes. Both are refused when the browser says the request
comes from another site (Origin, Sec-Fetch-Site), on top of SameSite=Strict:
no other site can log a person in under someone else's token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import falcon

from fastpath.api.dashboard.render import plain
from fastpath.api.middleware import COOKIE, LOGIN
from fastpath.core import tokens
from fastpath.store.queries import users

HOME = "/"


def safe_next(target: str | None) -> str:
    """Only a path of this site: never `//host` or `https://host` (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


def same_site(req) -> bool:
    fetch = req.get_header("Sec-Fetch-Site")
    if fetch is not None and fetch not in ("same-origin", "none"):
        return False
    origin = req.get_header("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == f"{req.scheme}://{req.netloc}"


def _cookie(req, resp, value: str, max_age: int | None = None) -> None:
    resp.set_cookie(COOKIE, value, max_age=max_age, path="/", secure=req.scheme == "https",
                    http_only=True, same_site="Strict")


class Login:
    public = True  # nobody is signed in yet

    def on_get(self, req, resp) -> None:
        plain(req, resp, "login.html", next=safe_next(req.get_param("next")), error=None)

    def on_post(self, req, resp) -> None:
        if not same_site(req):
            raise falcon.HTTPForbidden(description="a login from another site is refused")
        form = req.get_media() if req.content_length else {}
        token = str(form.get("token") or "").strip()
        target = safe_next(form.get("next"))
        user = users.authenticate(token) if token else None
        error = None
        if user is None:
            error = "Unknown token."
        elif not tokens.has(user.capabilities, "query"):
            error = f"User {user.name} lacks the query capability the dashboard needs."
        if error is not None:
            resp.status = falcon.HTTP_401
            plain(req, resp, "login.html", next=target, error=error)
            return
        _cookie(req, resp, token)
        raise falcon.HTTPSeeOther(target)


class Logout:
    public = True  # logging out needs no valid session

    def on_post(self, req, resp) -> None:
        if not same_site(req):
            raise falcon.HTTPForbidden(description="a logout from another site is refused")
        resp.unset_cookie(COOKIE, path="/")
        raise falcon.HTTPSeeOther(LOGIN)
