"""Per-request database connection and bearer-token authentication."""

from __future__ import annotations

import re
from collections.abc import Callable

import falcon

from fastpath.core import tokens
from fastpath.errors import Forbidden, Invalid, Unauthorized
from fastpath.store.db import db
from fastpath.store.queries import users


class Database:
    """Each request uses its own connection (from the pool on PostgreSQL/MariaDB)."""

    def process_request(self, req, resp) -> None:
        db.connect(reuse_if_open=True)

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        if not db.is_closed():
            db.close()


class Authentication:
    """Resolves `Authorization: Bearer <token>` to `req.context.user` on every non-public route."""

    def process_resource(self, req, resp, resource, params) -> None:
        req.context.user = None
        if getattr(resource, "public", False):
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        user = users.authenticate(token.strip())
        if user is None:
            raise Unauthorized("unknown token")
        req.context.user = user


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
