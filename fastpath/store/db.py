"""Open the scheduler's database from a URL and keep its schema current.

`sqlite:///file` is the embedded default (WAL, and `BEGIN IMMEDIATE`
writers that queue instead of failing: `WriterQueue`);
`postgresql://` and `mysql://` (MariaDB). Every backend uses a connection
pool: the API's threads connect for each request. The schema carries a
version; `schema.migrate()` creates it on first start, applies pending
migrations and refuses a database written by a newer release.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from playhouse.pool import PooledMySQLDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

from fastpath.errors import Invalid, Unavailable

log = logging.getLogger(__name__)

db = peewee.DatabaseProxy()

BUSY_TIMEOUT = 30.0  # seconds a writer waits for SQLite's write lock before "database is locked"
RETRY = 0.001  # seconds between a queued SQLite writer's tries


class WriterQueue(PooledSqliteDatabase):
    """SQLite whose writers queue in the process, then try the write lock every millisecond.

    SQLite's busy handler sleeps 1, 2, 5 ... 100 ms between its tries, so a writer that just
    missed the lock goes on sleeping long after it is free: behind the controller's writes,
    a release took 200-400 ms at p99 (issue 18). Here one thread per process tries at a
    time, without the busy handler, and the others wait on a lock that wakes them at once.
    The wait is bounded by BUSY_TIMEOUT, as SQLite's own is.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holds = threading.local()  # per thread, as peewee's connection state is

    def begin(self, lock_type=None) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT
        if not self._writer.acquire(timeout=BUSY_TIMEOUT):
            raise peewee.OperationalError("database is locked (by this process's other writers)")
        self._holds.writer = True
        try:
            self._begin_by_polling(lock_type, deadline)
        except BaseException:
            self._release_writer()
            raise

    def _begin_by_polling(self, lock_type, deadline: float) -> None:
        raw = self.connection()
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    super().begin(lock_type)
                    return
                except peewee.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(RETRY)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_writer()

    def _close(self, conn, close_conn=False) -> None:
        try:
            super()._close(conn, close_conn)  # rolls back a transaction left open
        finally:
            self._release_writer()

    def _release_writer(self) -> None:
        if getattr(self._holds, "writer", False):
            self._holds.writer = False
            self._writer.release()


def open_database(url: str) -> peewee.Database:
    """A peewee database for `url`; nothing is connected yet."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path or path == "/":
            raise Invalid(f"database URL {url!r}: use sqlite:///relative.db or sqlite:////abs.db")
        path = path[1:]  # sqlite:///x.db -> x.db, sqlite:////abs/x.db -> /abs/x.db
        # pooled like the others: a new SQLite connection costs its pragmas, a fifth of a request
        return WriterQueue(
            path,
            max_connections=64,
            stale_timeout=300,
            pragmas={"journal_mode": "wal", "busy_timeout": int(BUSY_TIMEOUT * 1000),
                     "foreign_keys": 1, "synchronous": "normal"},
            timeout=BUSY_TIMEOUT,
            lock_type="IMMEDIATE",
            check_same_thread=False,
        )
    name = unquote(parts.path.lstrip("/"))
    if not name or not parts.hostname:
        raise Invalid(f"database URL {_redact(url)!r} names no host or database")
    options = dict(parse_qsl(parts.query))
    common = {
        "host": parts.hostname,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "max_connections": int(options.pop("max_connections", 32)),
        "stale_timeout": 300,
        "timeout": 30,
        "connect_timeout": int(options.pop("connect_timeout", 5)),
    }
    if parts.port:
        common["port"] = parts.port
    if scheme in ("postgresql", "postgres"):
        _require("psycopg2", "postgres")
        return PooledPostgresqlDatabase(name, **common, **options)
    if scheme in ("mysql", "mariadb"):
        _require("pymysql", "mysql")
        from pymysql.constants import CLIENT

        # FOUND_ROWS: an UPDATE reports the rows it matched, as on the other
        # databases, so that compare-and-set counts mean the same everywhere.
        return PooledMySQLDatabase(
            name, charset="utf8mb4", field_types={"TEXT": "LONGTEXT"},
            client_flag=CLIENT.FOUND_ROWS, **common, **options,
        )
    raise Invalid(
        f"database URL {_redact(url)!r}: unknown scheme {scheme!r}; "
        "use sqlite:///file.db, postgresql://user@host/db or mysql://user@host/db"
    )


def _require(module: str, extra: str) -> None:
    try:
        __import__(module)
    except ImportError as exc:
        raise Invalid(
            f"the {module} driver is not installed: pip install 'fastpath-scheduler[{extra}]'"
        ) from exc


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def bind(url: str) -> peewee.Database:
    """Open `url`, make it the database of every model, and bring its schema up to date."""
    database = open_database(url)
    db.initialize(database)
    from fastpath.store.schema import migrate

    try:
        migrate()
    except peewee.OperationalError as exc:
        raise Unavailable(f"cannot use the database {_redact(url)}: {exc}") from exc
    except peewee.DatabaseError as exc:  # e.g. a --database file that is something else
        raise Invalid(f"--database {_redact(url)}: {exc}") from exc
    return database
