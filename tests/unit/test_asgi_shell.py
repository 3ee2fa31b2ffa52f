"""The ASGI shell with a WSGI app of ours: who waits where, and what a stalled body costs."""

from __future__ import annotations

import asyncio
import json
import threading

from fastpath.api.asgi import Shell


def scope(method: str, path: str, query: bytes = b"", headers: list | None = None) -> dict:
    return {"type": "http", "method": method, "path": path, "query_string": query,
            "headers": headers or [], "http_version": "1.1", "root_path": "", "scheme": "http",
            "server": ("127.0.0.1", 5000), "client": ("127.0.0.1", 40000)}


class App:
    """A WSGI app that records its calls; a long-poll defers while `queued` holds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, dict | None]] = []
        self.threads: set[str] = set()
        self.queued = True

    def __call__(self, environ, start_response):
        self.threads.add(threading.current_thread().name)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        slot = environ["asgi.scope"].get("fastpath.defer")
        self.calls.append((environ["PATH_INFO"], body, dict(slot) if slot is not None else None))
        if slot is not None and self.queued and not slot.get("waited"):
            slot["wait"] = 30
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"calls": len(self.calls), "queued": self.queued}).encode()]


class Room:
    """Stands in for the waiting room: returns when told to."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.waiting = 0

    def generation(self) -> int:
        return 0

    async def wait(self, lease, seen, timeout, gone) -> None:
        self.waiting += 1
        await asyncio.wait({asyncio.ensure_future(self.release.wait()), gone},
                           return_when=asyncio.FIRST_COMPLETED)


def run(shell: Shell, sc: dict, messages: list[dict], *, hold: asyncio.Event | None = None,
        until=None) -> list[dict]:
    sent: list[dict] = []

    async def main() -> None:
        queue = list(messages)

        async def receive() -> dict:
            if queue:
                return queue.pop(0)
            if hold is not None:
                await hold.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        task = asyncio.ensure_future(shell(sc, receive, send))
        if until is not None:
            await until(task)
        await task

    asyncio.run(main())
    return sent


def body_of(sent: list[dict]) -> dict:
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def test_a_long_poll_is_answered_after_the_wait_not_before():
    app = App()
    shell = Shell(app, threads=2)
    room = shell.room = Room()

    async def until(task):
        while not room.waiting:
            await asyncio.sleep(0.01)
        assert len(app.calls) == 1 and not task.done()  # parked: no thread, no answer yet
        app.queued = False
        room.release.set()

    sent = run(shell, scope("GET", "/leases/7", b"wait=30"), [{"type": "http.request", "body": b""}],
               hold=asyncio.Event(), until=until)
    assert [c[2] for c in app.calls] == [{}, {"waited": True}]
    assert body_of(sent) == {"calls": 2, "queued": False}  # the first answer was thrown away


def test_a_client_gone_while_waiting_gets_no_second_call():
    app = App()
    shell = Shell(app, threads=2)
    shell.room = Room()
    sent = run(shell, scope("GET", "/leases/7", b"wait=30"), [{"type": "http.request", "body": b""}])
    assert len(app.calls) == 1 and sent == []


def test_a_small_body_is_read_before_a_thread_is_taken_and_a_stall_ends_it_short():
    app = App()
    shell = Shell(app, threads=2, body_timeout=0.2)
    sc = scope("POST", "/leases", headers=[(b"content-length", b"100")])
    run(shell, sc, [{"type": "http.request", "body": b"abcd", "more_body": True}], hold=asyncio.Event())
    assert app.calls == [("/leases", b"abcd", None)]  # the app sees the 4 bytes that came
    assert all(t.startswith("fastpath-api") for t in app.threads)  # the quick pool, not the uploads


def test_an_upload_reaches_the_app_in_pieces_of_a_mebibyte_and_a_disconnect_after_them():
    from fastpath.api.asgi import BATCH

    piece = b"x" * (64 * 1024)
    messages = [{"type": "http.request", "body": piece, "more_body": True} for _ in range(20)]
    messages.append({"type": "http.disconnect"})

    async def main() -> list[dict]:
        queue = list(messages)

        async def receive() -> dict:
            return queue.pop(0)

        timed = Shell(App(), threads=2)._timed(receive)
        return [await timed() for _ in range(3)]

    first, second, third = asyncio.run(main())
    assert len(first["body"]) == BATCH and first["more_body"]  # 16 of uvicorn's pieces at once
    assert len(second["body"]) == 20 * len(piece) - BATCH and second["more_body"]
    assert third == {"type": "http.disconnect"}  # kept for the call after the bytes before it
