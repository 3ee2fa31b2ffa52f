"""Server-side rendering: one Jinja2 environment over the package's templates, autoescaped.

A page is its fragment (the part live refresh swaps) inside `base.html`. A
request with the `FP-Fragment` header gets the fragment alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import falcon
import jinja2
from markupsafe import Markup

FRAGMENT = "FP-Fragment"


def when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def span(seconds: float | None) -> str:
    """A duration as people read it: 42s, 3m 05s, 2h 10m, 3d 4h."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("fastpath.api.dashboard", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, span=span)
    return env


def page(req, resp, template: str, title: str, **context) -> None:
    """Render `template` as the response: the whole page, or its fragment alone."""
    env = environment()
    user = req.context.user
    fragment = Markup(env.get_template(template).render(user=user, **context))
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Cache-Control", "no-store")
    if req.get_header(FRAGMENT):
        resp.text = str(fragment)
        return
    resp.text = env.get_template("base.html").render(title=title, user=user, content=fragment,
                                                     path=req.path)


def plain(req, resp, template: str, **context) -> None:
    """A page outside the signed-in frame (the login page)."""
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Cache-Control", "no-store")
    resp.text = environment().get_template(template).render(**context)
