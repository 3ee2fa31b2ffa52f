"""The change watcher on each real backend: a committed bump wakes sync and async waiters."""

from __future__ import annotations

import asyncio
import threading

from fastpath.store import changes
from fastpath.store.db import db
from fastpath.store.queries import base

PATIENCE = 30.0  # a hang guard: every wait below returns as soon as the change arrives


def bump_in_thread(hold: threading.Event | None = None) -> threading.Thread:
    def write() -> None:
        with db.connection_context():
            with base.atomic():
                base.bump()
                if hold is not None:
                    hold.wait(PATIENCE)

    t = threading.Thread(target=write)
    t.start()
    return t


def test_a_committed_bump_wakes_a_sync_waiter(database):
    watcher = changes.Watcher(db.obj, safety=PATIENCE).start()
    try:
        seen = watcher.generation
        bump_in_thread().join()
        assert watcher.wait(seen, PATIENCE) != seen
    finally:
        watcher.stop()


def test_an_async_waiter_wakes_too(database):
    watcher = changes.Watcher(db.obj, safety=PATIENCE).start()

    async def main() -> int:
        seen = watcher.generation
        waiting = asyncio.ensure_future(watcher.changed(seen, PATIENCE))
        await asyncio.sleep(0)
        await asyncio.get_running_loop().run_in_executor(None, lambda: bump_in_thread().join())
        return await waiting != seen

    try:
        assert asyncio.run(main())
    finally:
        watcher.stop()


def test_nothing_is_announced_before_the_commit(sqlite_database):
    # On SQLite the writer pings after its commit: a waiter woken earlier would read the old state.
    # The safety read is far away, so only the ping can wake the watcher here.
    watcher = changes.Watcher(db.obj, safety=PATIENCE).start()
    try:
        seen = watcher.generation
        hold = threading.Event()
        writer = bump_in_thread(hold)
        assert watcher.wait(seen, 0.5) == seen  # inside the transaction: no ping yet
        hold.set()
        writer.join()
        assert watcher.wait(seen, PATIENCE) != seen
    finally:
        watcher.stop()


def test_a_listener_that_died_is_forgotten(sqlite_database, tmp_path):
    directory = changes.channel_dir(db.obj)
    directory.mkdir(exist_ok=True)
    import socket

    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(directory / "999999999"))
    dead.close()  # its file stays, nobody reads it
    changes.announce(directory)
    assert not (directory / "999999999").exists()
