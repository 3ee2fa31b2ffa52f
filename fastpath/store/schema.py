"""Keep the database's schema current: create it, or run the pending migrations.

Only one process migrates at a time, under a database-level lock that DDL
cannot release: an advisory lock on PostgreSQL, `GET_LOCK()` on MariaDB
(whose DDL commits, which would drop a row lock), and a file lock beside an
SQLite database. The others wait for it and then find nothing to do.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import peewee as pw

from fastpath.errors import Invalid, Unavailable
from fastpath.store import migrations
from fastpath.store.db import db

log = logging.getLogger(__name__)

LOCK_NAME = "fastpath_migrate"
PG_LOCK_KEY = 0x66617374  # "fast": any constant shared by every fastpath process
LOCK_WAIT = 300  # seconds another process may take to migrate


@contextmanager
def migration_lock(database: pw.Database) -> Iterator[None]:
    """Hold the database-wide migration lock on this thread's connection."""
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))
        try:
            yield
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
    elif isinstance(database, pw.MySQLDatabase):
        got = database.execute_sql("SELECT GET_LOCK(%s, %s)", (LOCK_NAME, LOCK_WAIT)).fetchone()[0]
        if got != 1:
            raise Unavailable(f"another process held the migration lock for over {LOCK_WAIT}s")
        try:
            yield
        finally:
            database.execute_sql("SELECT RELEASE_LOCK(%s)", (LOCK_NAME,))
    else:
        path = database.database
        if path in ("", ":memory:") or str(path).startswith("file:"):
            yield  # a private database: nobody to race with
            return
        fd = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def version() -> int | None:
    """The schema version recorded in the database; None for an empty database."""
    from fastpath.store.models import SchemaVersion

    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    row = SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar()
    return int(row) if row is not None else None


def pending() -> list[int]:
    """The numbers of the migrations this database still needs (empty when current)."""
    current = version()
    if current is None:
        return []
    _refuse_newer(current)
    return [n for n, _ in migrations.steps() if n > current]


def _refuse_newer(current: int) -> None:
    if current > migrations.latest():
        raise Invalid(
            f"the database schema is version {current}, newer than this fastpath "
            f"understands ({migrations.latest()}); upgrade fastpath"
        )


def migrate() -> list[int]:
    """Create the schema of an empty database, or apply its pending migrations; returns those applied."""
    from fastpath.store import models

    with db.connection_context(), migration_lock(db.obj):
        current = version()
        if current is None:
            with db.atomic():
                db.create_tables(models.ALL, safe=True)
                if version() is None:
                    models.SchemaVersion.create(version=migrations.latest())
                _ensure_change_row(models)
            return []
        _refuse_newer(current)
        applied = []
        for number, module in migrations.steps():
            if number <= current:
                continue
            log.info("migrating the database to schema %d (%s)", number, module.__name__)
            module.upgrade(migrations.Migration(db.obj))
            models.SchemaVersion.create(version=number)  # after the step: a crash re-runs it
            applied.append(number)
        # tables new since the last release that no migration had to fill
        db.create_tables(models.ALL, safe=True)
        _ensure_change_row(models)
        return applied


def _ensure_change_row(models) -> None:
    if not models.Change.select().where(models.Change.id == 1).exists():
        models.Change.insert(id=1, counter=0).execute()
