"""One change-watcher per process: it wakes the controller and the API's waiters when state changes.

Every write the controller or a waiter should react to bumps the change
counter in its transaction (`queries.base.bump`). How the news travels
depends on the database (DESIGN §13, "one change notification"):

- PostgreSQL: `bump` also sends a NOTIFY, delivered at commit; the watcher
  LISTENs on a connection of its own.
- SQLite: after a commit that bumped, the writer sends one datagram to every
  listening process: a Unix datagram socket per process, in a directory
  beside the database file (`<file>.changes/<pid>`). Writers and readers
  share the file, hence the host.
- elsewhere (MariaDB): one poll of the counter per process, every `poll`.

Whatever the channel, the watcher also reads the counter every `safety`
seconds, so that a lost datagram or a dropped LISTEN connection delays a
wake-up by at most that much. A waiter never polls: it remembers the
generation it saw, reads, and blocks until the generation moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import peewee

log = logging.getLogger(__name__)

CHANNEL = "fastpath_changes"  # the PostgreSQL NOTIFY channel


def channel_dir(database: peewee.Database) -> Path | None:
    """The directory of the SQLite datagram sockets, None for a database without a file."""
    if not isinstance(database, peewee.SqliteDatabase):
        return None
    name = database.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(os.path.abspath(name) + ".changes")


def _short(directory_fd: int, name: str) -> str:
    # AF_UNIX paths are limited to 108 bytes; a path through the directory's fd is always short
    return f"/proc/self/fd/{directory_fd}/{name}"


def announce(directory: Path) -> None:
    """Ping every process listening beside the database (called after a commit that bumped)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # nobody listens
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            for name in os.listdir(fd):
                try:
                    sock.sendto(b"!", socket.MSG_DONTWAIT, _short(fd, name))
                except BlockingIOError:
                    pass  # its queue is full: it has pings to read already
                except (ConnectionRefusedError, FileNotFoundError):
                    with contextlib.suppress(OSError):  # a process that died without cleaning up
                        os.unlink(name, dir_fd=fd)
                except OSError as exc:
                    log.debug("change ping to %s: %s", name, exc)
    finally:
        os.close(fd)


class Watcher:
    """Counts the changes this process has seen (`generation`) and wakes those who wait for one.

    One per process, started after the database is bound (`start`); the sync
    side (`wait`) serves the controller, the async side (`changed`) the API's
    waiters on any number of event loops.
    """

    def __init__(self, database: peewee.Database, *, poll: float = 0.02, safety: float = 1.0) -> None:
        self.database, self.poll, self.safety = database, poll, safety
        self.generation = 0
        self._cond = threading.Condition()
        self._loops: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        self._stop = threading.Event()
        self._wakeup_r, self._wakeup_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()  # listening: a change from now on is seen
        self._last: int | None = None
        self.pid = os.getpid()  # a forked child needs a watcher of its own

    # --- the waiting side -------------------------------------------------

    def wait(self, seen: int, timeout: float, until: Callable[[], bool] | None = None) -> int:
        """Block until the generation differs from `seen`, `until()` holds (see `poke`), or
        `timeout`; the generation then."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation != seen or (until is not None and until()),
                                timeout)
            return self.generation

    def poke(self) -> None:
        """Make the sync waiters look at their `until` again (a local wake-up, no change)."""
        with self._cond:
            self._cond.notify_all()

    async def changed(self, seen: int, timeout: float) -> int:
        """The asyncio twin of `wait`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.generation == seen:
            left = deadline - loop.time()
            if left <= 0:
                break
            event = self._loops.get(loop)
            if event is None:
                event = self._loops[loop] = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        return self.generation

    def _fire_async(self, loop: asyncio.AbstractEventLoop) -> None:
        event = self._loops.pop(loop, None)  # the next waiter gets a fresh event
        if event is not None:
            event.set()

    def _changed(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()
        for loop in list(self._loops):
            try:
                loop.call_soon_threadsafe(self._fire_async, loop)
            except RuntimeError:  # that loop is closed
                self._loops.pop(loop, None)

    # --- the watching side ------------------------------------------------

    def start(self) -> Watcher:
        """Start watching; returns once listening (or after a few seconds if it cannot)."""
        self._thread = threading.Thread(target=self._run, name="fastpath-changes", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wakeup_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _counter(self) -> None:
        """Read the counter (the safety net, and the only channel on MariaDB)."""
        from fastpath.store.queries import base

        try:
            with self.database.connection_context():
                now = base.changes()
        except Exception as exc:  # the database is away: the next read tells
            log.debug("change counter not read: %s", exc)
            return
        if now != self._last:
            if self._last is not None:
                self._changed()
            self._last = now

    def _run(self) -> None:
        directory = channel_dir(self.database)
        if directory is not None:
            self._run_datagrams(directory)
        elif isinstance(self.database, peewee.PostgresqlDatabase):
            self._run_listen()
        else:
            while not self._stop.is_set():
                self._counter()
                self._ready.set()
                self._stop.wait(self.poll)

    def _sleep(self, readers: list, timeout: float) -> list:
        ready, _, _ = select.select([self._wakeup_r, *readers], [], [], timeout)
        return [r for r in ready if r != self._wakeup_r]

    def _run_datagrams(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        name = str(os.getpid())
        dirfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dirfd)
            sock.bind(_short(dirfd, name))
            sock.setblocking(False)
            self._counter()
            self._ready.set()
            next_check = time.monotonic() + self.safety
            while not self._stop.is_set():
                if self._sleep([sock], max(0.0, next_check - time.monotonic())):
                    with contextlib.suppress(BlockingIOError):
                        while sock.recv(64):  # one wake-up for a burst of pings
                            pass
                    self._changed()
                    self._last = None  # the safety read re-learns the counter without a wake-up
                if time.monotonic() >= next_check:
                    self._counter()
                    next_check = time.monotonic() + self.safety
        finally:
            sock.close()
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=dirfd)
            os.close(dirfd)

    def _run_listen(self) -> None:
        import psycopg2

        from fastpath.store.queries import base

        conn = None
        while not self._stop.is_set():
            if conn is None:
                try:
                    conn = psycopg2.connect(database=self.database.database,
                                            **self.database.connect_params)
                    conn.autocommit = True
                    base.listen(conn, CHANNEL)
                    self._changed()  # what changed while we were not listening
                except Exception as exc:
                    log.warning("cannot LISTEN for changes (%s); reading the counter instead", exc)
                    conn = None
                self._ready.set()
            if conn is None:
                self._counter()
                self._stop.wait(self.safety)
                continue
            try:
                if self._sleep([conn], self.safety):
                    conn.poll()
                    if conn.notifies:
                        conn.notifies.clear()
                        self._changed()
                else:
                    self._counter()
            except Exception as exc:
                log.warning("LISTEN connection lost: %s", exc)
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


_watcher: Watcher | None = None


def watcher(poll: float = 0.02) -> Watcher:
    """This process's watcher, started on first use (after `fastpath.store.db.bind`).

    `poll` is the counter's poll interval where there is no channel (MariaDB).
    """
    global _watcher
    from fastpath.store.db import db

    if _watcher is None or _watcher.pid != os.getpid() or _watcher.database is not db.obj:
        if _watcher is not None and _watcher.pid == os.getpid():
            _watcher.stop()  # bound to another database since (tests)
        _watcher = Watcher(db.obj, poll=poll).start()
    return _watcher
