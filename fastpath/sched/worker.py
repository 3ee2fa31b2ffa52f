"""The API's gunicorn worker: uvicorn's asyncio worker, with a deadline on request headers.

uvicorn closes a connection that stays idle after a response (keep-alive),
but waits forever for the rest of a half-sent request header. Here a
request's headers must be complete within `HEADER_TIMEOUT` of the
connection (or of the previous response), so a stalled client costs a
socket for that long, and never a thread. Bodies have their own deadline
(`fastpath.api.asgi.Shell`), and header sizes h11's limit (16 KiB).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

HEADER_TIMEOUT = 10.0


class Protocol(H11Protocol):
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        # armed for the request that comes next: if no new request cycle began by then, close
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._expired, self.cycle)

    def _expired(self, cycle) -> None:
        if self.cycle is cycle and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        self._arm()  # before a pipelined request starts its cycle in there
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)


class Worker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "asyncio", "http": Protocol, "lifespan": "off"}
