"""Per-request database connection, bearer-token authentication, and the dashboard's cookie."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from urllib.parse import quote

import falcon

from fastpath.core import tokens
from fastpath.errors import Forbidden, Invalid, Unauthorized
from fastpath.store.db import db
from fastpath.store.models import User
from fastpath.store.queries import users

TOKEN_TTL = 2.0  # seconds a token's user is remembered: how late another process sees a revocation
MAX_TOKENS = 10_000  # remembered at most; then forgotten all at once


class Database:
    """Each request uses its own connection (from the pool on PostgreSQL/MariaDB)."""

    def process_request(self, req, resp) -> None:
        db.connect(reuse_if_open=True)

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        if not db.is_closed():
            db.close()


COOKIE = "fastpath_token"  # the dashboard's login: a scheduler token, HttpOnly, SameSite=Strict
LOGIN = "/ui/login"


class Tokens:
    """token -> user, remembered for `ttl` seconds, so that a request costs no lookup.

    This process forgets everything at once when it changes a user (`forget`); a change
    made elsewhere (another worker, `fastpath sched admin-token` on the database) is seen
    within `ttl`. Unknown tokens are not remembered: each one is looked up.
    """

    def __init__(self, clock: Callable[[], float], ttl: float = TOKEN_TTL) -> None:
        self.clock, self.ttl = clock, ttl
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, User]] = {}

    def user(self, token: str) -> User | None:
        key, now = tokens.hash_token(token), self.clock()
        hit = self._seen.get(key)
        if hit is not None and 0 <= now - hit[0] < self.ttl:
            return hit[1]
        user = users.authenticate(token)
        with self._lock:
            if user is None:
                self._seen.pop(key, None)
            else:
                if len(self._seen) >= MAX_TOKENS:
                    self._seen.clear()
                self._seen[key] = (now, user)
        return user

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


class Authentication:
    """Resolves `Authorization: Bearer <token>` to `req.context.user` on every non-public route.

    Dashboard pages (resources with `page = True`) read the token from the
    login cookie instead, and only they do: the API never accepts the cookie,
    so a page of another site cannot make a browser act on the API.
    """

    def __init__(self, known: Tokens) -> None:
        self.known = known

    def process_resource(self, req, resp, resource, params) -> None:
        req.context.user = None
        if getattr(resource, "public", False):
            return
        if getattr(resource, "page", False):
            req.context.user = _signed_in(req)
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        user = self.known.user(token.strip())
        if user is None:
            raise Unauthorized("unknown token")
        req.context.user = user


def _signed_in(req):
    """The user of the login cookie, who must hold `query`; otherwise off to the login page."""
    token = req.get_cookie_values(COOKIE) or []
    user = users.authenticate(token[0]) if token and token[0] else None
    if user is None or not tokens.has(user.capabilities, "query"):
        raise falcon.HTTPSeeOther(LOGIN + "?next=" + quote(req.relative_uri, safe=""))
    return user


class QueryParameters:
    """Unknown query parameters are refused (400), as unknown body fields are.

    The known ones are those the OpenAPI document lists for the route, so the
    document and the server cannot disagree about them.
    """

    def __init__(self, document: dict) -> None:
        self.known = {
            (path, method.upper()): {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            for path, ops in document["paths"].items() for method, op in ops.items()
        }

    def process_resource(self, req, resp, resource, params) -> None:
        template = re.sub(r"{(\w+):[^}]*}", r"{\1}", req.uri_template or "")
        known = self.known.get((template, req.method))
        if known is None:  # a method the route does not serve: falcon answers 405
            return
        for name in req.params:
            if name not in known:
                raise Invalid(f"unknown query parameter {name[:64]!r}"
                              + (f"; known: {', '.join(sorted(known))}" if known else ""))


def needs(*capabilities: str) -> Callable:
    """A responder hook: the user must hold one of `capabilities` (admin holds all)."""

    def check(req, resp, resource, params) -> None:
        user = req.context.user
        if not any(tokens.has(user.capabilities, c) for c in capabilities):
            raise Forbidden(
                f"user {user.name!r} lacks the {' or '.join(capabilities)} capability"
            )

    return falcon.before(check)


def ensure_owner(req, owner_id: int, what: str) -> None:
    """Changes need ownership or admin."""
    user = req.context.user
    if owner_id != user.id and not tokens.has(user.capabilities, "admin"):
        raise Forbidden(f"{what} belongs to another user; only its owner or an admin may change it")


class DrainAfterRefusal:
    """WSGI wrapper: after a refusal, read and discard the body the client is still sending.

    Refusals (token, capability, size, a bad plan) are decided before the body
    is read. A client that sends its whole body before it reads (most HTTP
    clients) would otherwise meet a closed connection, a broken pipe, and never
    see the answer. The answer is sent first; the body is drained after it, in
    the response's close(), up to `limit` bytes.
    """

    CHUNK = 1024 * 1024

    def __init__(self, app: Callable, limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict, start_response: Callable):
        status: list[str] = []

        def start(code: str, headers: list, exc_info=None):
            status.append(code)
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        body = self.app(environ, start)
        return _Draining(body, environ, status, self.limit)


class _Draining:
    def __init__(self, body, environ: dict, status: list[str], limit: int) -> None:
        self.body, self.environ, self.status, self.limit = body, environ, status, limit

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        if hasattr(self.body, "close"):
            self.body.close()
        if not self.status or int(self.status[-1].split()[0]) < 400:
            return
        try:
            declared = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if declared <= 0 or declared > self.limit:
            return  # nothing to drain, or too much: the connection is closed instead
        stream, left = self.environ["wsgi.input"], declared
        try:
            while left > 0 and (chunk := stream.read(min(DrainAfterRefusal.CHUNK, left))):
                left -= len(chunk)
        except OSError:
            pass  # the client gave up: nothing more to do
