"""A small HTTP client for the scheduler's API (standard library only, for a fast start)."""

from __future__ import annotations

import functools
import http.client
import json
import select
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

import click

from fastpath import errors
from fastpath.cli import preference
from fastpath.cli.output import ExitStatus, fail, reports_errors

BY_STATUS = {
    400: errors.Invalid, 401: errors.Unauthorized, 403: errors.Forbidden, 404: errors.NotFound,
    409: errors.Conflict, 413: errors.TooLarge, 503: errors.Unavailable,
}


CONNECT_TIMEOUT = 5.0
FIRST_CONTACT = 10.0  # a request that never reached the scheduler gives up after this long


class Unreachable(errors.Unavailable):
    """The scheduler did not answer; `contacted` if the request may have reached it."""

    def __init__(self, message: str, contacted: bool) -> None:
        super().__init__(message)
        self.contacted = contacted


class Client:
    def __init__(self, url: str, token: str, timeout: float = 90.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.Invalid(f"scheduler URL {url!r}: expected http://host:port")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self._parts = parts

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        return cls(self._parts.hostname or "", self._parts.port, timeout=min(self.timeout, CONNECT_TIMEOUT))

    def _reason(self, exc: BaseException) -> str:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, socket.timeout):
            reason = "timed out"
        return f"cannot reach the scheduler at {self.url}: {reason}"

    def request(self, method: str, path: str, *, params: dict | None = None, body=None,
                headers: dict | None = None) -> dict:
        """Send one request; the decoded JSON body, or the error it stands for."""
        query = {k: v for k, v in (params or {}).items() if v is not None and v is not False}
        target = self._parts.path.rstrip("/") + path + ("?" + urlencode(query, doseq=True) if query else "")
        head = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **(headers or {})}
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            head["Content-Type"] = "application/json"
        conn = self._connection()
        try:
            try:
                conn.connect()  # a short timeout: a wrong or down address fails fast
            except OSError as exc:
                raise Unreachable(self._reason(exc), contacted=False) from exc
            conn.sock.settimeout(self.timeout)  # a long poll waits up to `wait` s for its answer
            try:
                if body is None or isinstance(body, bytes):
                    conn.request(method, target, body=body, headers=head)
                else:
                    self._send_streaming(conn, method, target, body, head)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                raise Unreachable(self._reason(exc), contacted=True) from exc
        finally:
            conn.close()
        return self._decode(resp.status, raw, resp.getheader("Content-Type") or "")

    @staticmethod
    def _send_streaming(conn: http.client.HTTPConnection, method: str, target: str,
                        chunks: Iterable[bytes], head: dict) -> None:
        """Send a streamed body, stopping as soon as the server has answered.

        A server refuses a request (token, capability, size, a bad plan) before
        reading its body, and may close the connection: what it said is then in
        our receive buffer, and sending on would only meet a broken pipe.
        """
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in head.items():
            conn.putheader(name, value)
        conn.endheaders()
        for chunk in chunks:
            if select.select([conn.sock], [], [], 0)[0]:
                return  # an early answer: read it
            try:
                conn.sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return  # the server stopped reading; its answer may be waiting

    def _decode(self, status: int, raw: bytes, content_type: str = "application/json") -> dict:
        doc: Any
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = None
        if raw and not (isinstance(doc, dict) and content_type.startswith("application/json")) \
                or not raw and status >= 400:
            # another HTTP service (a web page, a proxy's error): one line, not its page
            kind = content_type.split(";")[0].strip() or "no content type"
            if status in (502, 503, 504):  # a proxy in front of a restarting scheduler
                raise errors.Unavailable(f"cannot reach the scheduler at {self.url}: "
                                         f"HTTP {status} ({kind}) from a proxy")
            raise errors.Invalid(f"{self.url} is not a Fastpath scheduler (HTTP {status}, {kind})")
        if status < 400:
            return doc
        assert isinstance(doc, dict)  # an error without a JSON object raised above
        message = doc.get("description") or doc.get("title") or f"HTTP {status}"
        raise BY_STATUS.get(status, errors.FastpathError)(message)

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        return self.request("POST", path, body=body if body is not None else {}, headers=headers)

    def patch(self, path: str, body: dict) -> dict:
        return self.request("PATCH", path, body=body)

    def stream(self, method: str, path: str, chunks: Iterable[bytes], length: int,
               content_type: str, headers: dict | None = None) -> dict:
        """Send a body produced piece by piece (never held whole in memory)."""
        return self.request(method, path, body=chunks, headers={
            "Content-Type": content_type, "Content-Length": str(length), **(headers or {})})

    def retrying(self, send: Callable[[], dict], *, patience: float, exists: bool = False,
                 on_wait: Callable[[errors.Unavailable, int], None] | None = None) -> dict:
        """Call `send()` until the scheduler answers (it may be restarting).

        Only for requests that are safe to repeat: idempotent ones, or ones
        that carry an Idempotency-Key. When nothing `exists` yet and no attempt
        ever reached the scheduler (refused, no route, wrong name), it gives up
        after FIRST_CONTACT s without a word: there is nothing to keep. Otherwise
        it retries for `patience` s, calling `on_wait(error, attempt)` before
        each retry.
        """
        start, attempt, contacted = time.monotonic(), 0, exists
        while True:
            try:
                return send()
            except errors.Unavailable as exc:
                attempt += 1
                contacted = contacted or getattr(exc, "contacted", True)
                if time.monotonic() - start > (patience if contacted else FIRST_CONTACT):
                    raise
                if on_wait is not None and contacted:
                    on_wait(exc, attempt)
                time.sleep(2)


def worth_saying(attempt: int) -> bool:
    """Retry messages on attempts 1, 2, 4, 8, ... and then once a minute, not every 2 s."""
    return attempt & (attempt - 1) == 0 or attempt % 30 == 0


def client_command(fn):
    """Add --url and --token (defaulting to the sched.url and sched.token preferences)."""

    @click.option("--url", envvar="FASTPATH_URL", show_envvar=True,
                  help="Scheduler URL [default: $FASTPATH_URL, else the sched.url preference].")
    @click.option("--token", envvar="FASTPATH_TOKEN", show_envvar=True,
                  help="Your token [default: $FASTPATH_TOKEN, else the sched.token preference].")
    @functools.wraps(fn)
    @reports_errors
    def wrapper(url, token, **kw):
        # an empty option is a mistake (an unset variable), never "use the saved one"
        if url is not None and not url.strip():
            fail("--url is empty: pass the scheduler URL or leave the option out", ExitStatus.USAGE)
        if token is not None and not token.strip():
            fail("--token is empty: pass a token or leave the option out to use the saved one",
                 ExitStatus.USAGE)
        url = url or preference.get("sched", "url")
        token = token or preference.get("sched", "token")
        if not url:
            fail("no scheduler URL: pass --url or run "
                 "'fastpath preference set --category sched --name url URL'", ExitStatus.USAGE)
        if not token:
            fail("no token: pass --token or run "
                 "'fastpath preference set --category sched --name token TOKEN'", ExitStatus.USAGE)
        return fn(Client(url, token), **kw)

    return wrapper
