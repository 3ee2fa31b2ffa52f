"""The API as an ASGI app: long-polls wait without a thread, the rest runs the falcon WSGI app.

A thin shell, so that the resources stay plain falcon (DESIGN §13, "a waiter
is a record, not a thread"):

- `GET /leases/{id}?wait=N` runs the WSGI app once with a slot in its scope
  (`fastpath.defer`). If the lease is queued, the resource fills the slot
  with the seconds to wait instead of waiting; the shell throws that answer
  away, awaits the waiting room (`fastpath.api.waiters`) and runs the app
  again for the answer. Authentication, validation and the view are the
  resource's, unchanged.
  Long-polls run the app in a pool of their own, so that a crowd of waits
  ending together queues there, not in front of other requests.
- Every other request goes to the WSGI app through a2wsgi in a bounded pool
  of threads. A small body (at most `SMALL`) is read here, on the event
  loop, before a thread is taken, so a client that stalls mid-body holds a
  socket, not a thread. A larger body (an upload) streams to the app in a
  separate, smaller pool; a pause of more than `body_timeout` ends it as a
  short body (a 400), which frees the thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi import WSGIMiddleware

from fastpath.api.waiters import WaitingRoom

SMALL = 64 * 1024  # bodies up to this are read before a thread is taken
LONG_POLL = re.compile(r"^/leases/(\d{1,19})/?$")
WAIT = re.compile(rb"(^|&)wait=")

Scope = dict[str, Any]
Message = dict[str, Any]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class Shell:
    def __init__(self, wsgi: Callable, *, threads: int = 32, upload_threads: int | None = None,
                 body_timeout: float = 30.0) -> None:
        # typed loosely: a2wsgi's TypedDict scopes would refuse the slot this shell adds
        self.quick: Any = WSGIMiddleware(wsgi, workers=threads)
        self.uploads: Any = WSGIMiddleware(wsgi, workers=upload_threads or max(2, threads // 4))
        # long-polls' answers: when many waits end together, they queue here, not before the rest
        self.answers: Any = WSGIMiddleware(wsgi, workers=max(2, threads // 4))
        self.body_timeout = body_timeout
        # the waiting room's one query per change gets a thread of its own: queued behind busy
        # request threads, it would delay every wake-up
        self._room_thread = ThreadPoolExecutor(1, thread_name_prefix="fastpath-waiters")
        self.room = WaitingRoom(self.run_sync)

    async def run_sync(self, fn: Callable, *args: Any) -> Any:
        """Run the waiting room's blocking work (a database read) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._room_thread, fn, *args)

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self.quick(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        match = LONG_POLL.match(scope["path"])
        if match and scope["method"] == "GET" and WAIT.search(scope["query_string"]):
            await self.long_poll(scope, receive, send, int(match.group(1)))
            return
        length = _header(scope, b"content-length")
        if length is None and _header(scope, b"transfer-encoding") is None:
            await self.quick(scope, receive, send)  # no body
        elif length is not None and length.isdigit() and int(length) <= SMALL:
            body = await self._read(receive, int(length))
            await self.quick(scope, _replay(body), send)
        else:
            await self.uploads(scope, self._timed(receive), send)

    async def _read(self, receive: Callable, length: int) -> bytes:
        """The body, read on the loop; what came before a pause of `body_timeout` if it stalls."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size < length:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                break  # the app answers 400: fewer bytes than Content-Length
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _timed(self, receive: Callable) -> Callable:
        ended = False

        async def timed() -> Message:
            nonlocal ended
            if ended:
                return {"type": "http.disconnect"}
            try:
                return await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                ended = True  # a stalled upload: the stream ends short, the thread is freed
                return {"type": "http.request", "body": b"", "more_body": False}

        return timed

    async def long_poll(self, scope: Scope, receive: Callable, send: Callable, lease: int) -> None:
        seen = self.room.generation()
        slot: dict[str, Any] = {}
        first = await self._capture({**scope, "fastpath.defer": slot})
        wait = slot.get("wait")
        if not wait:
            for message in first:
                await send(message)
            return
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await self.room.wait(lease, seen, float(wait), gone)
            if gone.done():
                return  # nobody to answer
        finally:
            gone.cancel()
        await self.answers({**scope, "fastpath.defer": {"waited": True}}, _replay(b""), send)

    async def _capture(self, scope: Scope) -> list[Message]:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.answers(scope, _replay(b""), keep)
        return messages


def _replay(body: bytes) -> Callable:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _disconnected(receive: Callable) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
