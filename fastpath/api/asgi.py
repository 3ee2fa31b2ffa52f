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
- Every other request runs the WSGI app in a bounded pool of threads. A
  small body (at most `SMALL`) is read here, on the event loop, before a
  thread is taken, so a client that stalls mid-body holds a socket, not a
  thread; then the app runs in one hop to a thread and back (`Whole`). A
  larger body (an upload) streams to the app through a2wsgi in a separate,
  smaller pool; a pause of more than `body_timeout` ends it as a short body
  (a 400), which frees the thread.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

from fastpath.api.waiters import WaitingRoom

SMALL = 64 * 1024  # bodies up to this are read before a thread is taken
BATCH = 1024 * 1024  # bytes of an upload handed to the app's thread at a time
GATHER = 0.005  # seconds a piece of an upload waits for the next one to join it
LONG_POLL = re.compile(r"^/leases/(\d{1,19})/?$")
WAIT = re.compile(rb"(^|&)wait=")

Scope = dict[str, Any]
Message = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]


class Whole:
    """The WSGI app for a request whose body is already read, in one hop to a thread and back.

    a2wsgi hands each message over on its own (the body read, the response start, each
    body chunk: a wake-up of the loop and a wait of the thread each), which cost more than
    the app itself for a small request (issue 15). Here the thread runs the app to the end
    and returns the whole response. Our responses are JSON, HTML or a metrics page, never
    a stream, so holding one whole costs nothing a stream would save.
    """

    def __init__(self, wsgi: Callable, threads: int, name: str) -> None:
        self.wsgi = wsgi
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix=name)

    async def response(self, scope: Scope, body: bytes) -> Response:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._run, scope, body)

    async def __call__(self, scope: Scope, body: bytes, send: Callable) -> None:
        await _send(send, await self.response(scope, body))

    def _run(self, scope: Scope, body: bytes) -> Response:
        started: list = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            started[:] = [int(status.split(" ", 1)[0]),
                          [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]]
            return chunks.append  # the legacy write()

        result = self.wsgi(build_environ(scope, io.BytesIO(body)), start_response)  # type: ignore[arg-type]
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started[0], started[1], b"".join(chunks)


async def _send(send: Callable, response: Response) -> None:
    status, headers, body = response
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class Shell:
    def __init__(self, wsgi: Callable, *, threads: int = 32, upload_threads: int | None = None,
                 body_timeout: float = 30.0) -> None:
        self.quick = Whole(wsgi, threads, "fastpath-api")
        # typed loosely: a2wsgi's TypedDict scopes would refuse the slot this shell adds
        self.uploads: Any = WSGIMiddleware(wsgi, workers=upload_threads or max(2, threads // 4))
        # long-polls' answers: when many waits end together, they queue here, not before the rest
        self.answers = Whole(wsgi, max(2, threads // 4), "fastpath-answers")
        self.body_timeout = body_timeout
        # the waiting room's one query per change gets a thread of its own: queued behind busy
        # request threads, it would delay every wake-up
        self._room_thread = ThreadPoolExecutor(1, thread_name_prefix="fastpath-waiters")
        self.room = WaitingRoom(self.run_sync)

    async def run_sync(self, fn: Callable, *args: Any) -> Any:
        """Run the waiting room's blocking work (a database read) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._room_thread, fn, *args)

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":  # the worker runs without lifespan events
            return
        match = LONG_POLL.match(scope["path"])
        if match and scope["method"] == "GET" and WAIT.search(scope["query_string"]):
            await self.long_poll(scope, receive, send, int(match.group(1)))
            return
        length = _header(scope, b"content-length")
        if length is None and _header(scope, b"transfer-encoding") is None:
            await self.quick(scope, b"", send)  # no body
        elif length is not None and length.isdigit() and int(length) <= SMALL:
            await self.quick(scope, await self._read(receive, int(length)), send)
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
        """An upload's body in pieces of up to BATCH bytes (uvicorn's are 64 KiB or less, and
        a2wsgi hands each piece to the app's thread with a wake-up of the loop)."""
        ended = False
        held: Message | None = None  # what came after a piece: given at the next call

        async def timed() -> Message:
            nonlocal ended, held
            if held is not None:
                message, held = held, None
                return message
            if ended:
                return {"type": "http.disconnect"}
            chunks: list[bytes] = []
            size = 0
            while True:
                try:
                    # the first piece may take body_timeout; those after it join only if they
                    # come at once, so that what a slow client sent reaches the app, and disk
                    message = await asyncio.wait_for(receive(), GATHER if chunks else self.body_timeout)
                except TimeoutError:
                    if chunks:
                        return {"type": "http.request", "body": b"".join(chunks), "more_body": True}
                    ended = True  # a stalled upload: the stream ends short, the thread is freed
                    return {"type": "http.request", "body": b"", "more_body": False}
                if message["type"] != "http.request":
                    if not chunks:
                        return message
                    held = message
                    return {"type": "http.request", "body": b"".join(chunks), "more_body": True}
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if not more or size >= BATCH:
                    return {"type": "http.request", "body": b"".join(chunks), "more_body": more}

        return timed

    async def long_poll(self, scope: Scope, receive: Callable, send: Callable, lease: int) -> None:
        seen = self.room.generation()
        slot: dict[str, Any] = {}
        first = await self.answers.response({**scope, "fastpath.defer": slot}, b"")
        wait = slot.get("wait")
        if not wait:
            await _send(send, first)
            return
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await self.room.wait(lease, seen, float(wait), gone)
            if gone.done():
                return  # nobody to answer
        finally:
            gone.cancel()
        await self.answers({**scope, "fastpath.defer": {"waited": True}}, b"", send)


async def _disconnected(receive: Callable) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
