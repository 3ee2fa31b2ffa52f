"""One table from error classes to HTTP statuses, and the JSON error body."""

from __future__ import annotations

import logging

import falcon
import peewee

from fastpath import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.Invalid: falcon.HTTP_400,
    errors.Unauthorized: falcon.HTTP_401,
    errors.Forbidden: falcon.HTTP_403,
    errors.NotFound: falcon.HTTP_404,
    errors.Conflict: falcon.HTTP_409,
    errors.TooLarge: falcon.HTTP_413,
    errors.Unavailable: falcon.HTTP_503,
}


def _status(ex: errors.FastpathError) -> str:
    for cls in type(ex).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return falcon.HTTP_500


def _body(resp: falcon.Response, status: str, description: str) -> None:
    resp.status = status
    resp.media = {"status": "error", "title": status.split(" ", 1)[1], "description": description}


def handle_fastpath(req, resp, ex: errors.FastpathError, params) -> None:
    _body(resp, _status(ex), ex.message)
    if isinstance(ex, errors.Unauthorized):
        resp.set_header("WWW-Authenticate", "Bearer")


def handle_http(req, resp, ex: falcon.HTTPError, params) -> None:
    description = ex.description or (
        f"no route for {req.method} {req.path}" if isinstance(ex, falcon.HTTPRouteNotFound)
        else ex.title or ""
    )
    _body(resp, ex.status if isinstance(ex.status, str) else falcon.code_to_http_status(ex.status),
          description)
    resp.set_headers(ex.headers or {})


def handle_database(req, resp, ex: peewee.OperationalError, params) -> None:
    log.warning("database unavailable: %s", ex)
    _body(resp, falcon.HTTP_503, "the scheduler's database is unavailable; try again")


def handle_unexpected(req, resp, ex: Exception, params) -> None:
    log.exception("unexpected error on %s %s", req.method, req.path)
    _body(resp, falcon.HTTP_500, "internal error; the scheduler's log has the details")


def install(app: falcon.App) -> None:
    # Most general first: falcon picks the handler of the nearest class.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(peewee.OperationalError, handle_database)
    app.add_error_handler(falcon.HTTPError, handle_http)
    app.add_error_handler(errors.FastpathError, handle_fastpath)
