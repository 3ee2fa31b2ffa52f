"""The API's gunicorn worker: uvicorn's, on uvloop and httptools, with limits on request headers.

uvloop and the httptools (llhttp) parser instead of asyncio's loop and h11:
a small request cost about half as much (issue 15, `bench/api_throughput.py`).
uvicorn closes a connection that stays idle after a response (keep-alive),
but waits forever for the rest of a half-sent request header, and llhttp
sets no size limit on it. Here a request's headers must be complete within
`HEADER_TIMEOUT` of the connection (or of the previous response), so a
stalled client costs a socket for that long, and never a thread; and
headers past `MAX_HEADER` bytes end the connection with a 400, as h11's
limit did. Bodies have their own deadline (`fastpath.api.asgi.Shell`).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

HEADER_TIMEOUT = 10.0
MAX_HEADER = 16 * 1024  # bytes of request line and headers (h11's default limit)


class HeaderTooLarge(Exception):
    """Raised in a parser callback: uvicorn answers 400 and closes the connection."""


class Protocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0

    def _arm(self) -> None:
        # armed for the request that comes next: if no new request cycle began by then, close
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._expired, self.cycle)

    def _expired(self, cycle) -> None:
        if self.cycle is cycle and not self.transport.is_closing():
            self.transport.close()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER:
            raise HeaderTooLarge(f"request headers larger than {MAX_HEADER} bytes")

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_response_complete(self) -> None:
        self._arm()  # before a pipelined request starts its cycle in there
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)


class Worker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "uvloop", "http": Protocol, "lifespan": "off"}
