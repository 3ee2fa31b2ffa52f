"""The dashboard's routes on the API's app, its assets and its response headers."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

import falcon

from fastpath.api import errors
from fastpath.api.dashboard import pages, session
from fastpath.api.dashboard.render import plain
from fastpath.api.queue import QueueCache
from fastpath.errors import FastpathError

ASSETS = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}
# only our own script, styles and pictures; no framing by other sites
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class Static:
    """The dashboard's script and styles (public: the login page uses them too)."""

    public = True

    def __init__(self) -> None:
        root = files("fastpath.api.dashboard") / "static"
        self.assets = {name: (root / name).read_bytes() for name in ASSETS}

    def on_get(self, req, resp, name: str) -> None:
        if name not in self.assets:
            raise falcon.HTTPNotFound(description=f"no asset {name[:64]!r}")
        resp.data, resp.content_type = self.assets[name], ASSETS[name]
        resp.set_header("Cache-Control", "max-age=300")


class Headers:
    """Middleware: the security headers of every dashboard response."""

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        if req.path == "/" or req.path.startswith("/ui"):
            resp.set_header("Content-Security-Policy", POLICY)
            resp.set_header("X-Content-Type-Options", "nosniff")
            resp.set_header("Referrer-Policy", "same-origin")


class Redirect:
    public = True

    def __init__(self, to: str) -> None:
        self.to = to

    def on_get(self, req, resp) -> None:
        raise falcon.HTTPSeeOther(self.to)


def _error(req, resp, ex: FastpathError, params) -> None:
    """A page's refusal (no such plan, SUT, class; a bad filter) as a page; the API's as JSON."""
    errors.handle_fastpath(req, resp, ex, params)
    if req.path.startswith("/ui/") and req.context.get("user") is not None:
        status = resp.status
        plain(req, resp, "error.html", status=status, message=ex.message)
        resp.status = status


def install(app: falcon.App, *, clock: Callable[[], float], queues: QueueCache,
            resultstore: str | None) -> None:
    """Add the dashboard's routes to the API's app."""
    args = (clock, queues, resultstore)
    app.add_error_handler(FastpathError, _error)
    app.add_route("/", pages.Overview(*args))
    app.add_route("/ui", Redirect("/"))
    app.add_route("/ui/login", session.Login())
    app.add_route("/ui/logout", session.Logout())
    app.add_route("/ui/static/{name}", Static())
    app.add_route("/ui/sutclasses/{name}", pages.SutClassPage(*args))
    app.add_route("/ui/suts/{name}", pages.SutPage(*args))
    app.add_route("/ui/plans", pages.PlansPage(*args))
    app.add_route("/ui/plans/{id:int(min=1,max=9223372036854775807)}", pages.PlanPage(*args))
    app.add_route("/ui/leases", pages.LeasesPage(*args))
