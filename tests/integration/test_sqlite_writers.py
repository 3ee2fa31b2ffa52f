"""SQLite's writers queue: in the process on a lock, across processes by trying every millisecond."""

from __future__ import annotations

import sqlite3
import threading

import peewee
import pytest

from fastpath.store import db as dbmod
from fastpath.store.db import db
from fastpath.store.models import Change
from fastpath.store.queries import base

PATIENCE = 30.0  # a hang guard


def _path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _counter() -> int:
    with db.connection_context():
        return base.changes()


def _bump_in_thread(errors: list) -> threading.Thread:
    def write() -> None:
        try:
            with db.connection_context(), base.atomic():
                base.bump()
        except Exception as exc:  # the test reads it
            errors.append(exc)

    t = threading.Thread(target=write)
    t.start()
    return t


def test_a_writer_behind_another_connection_goes_once_that_commits(sqlite_database):
    other = sqlite3.connect(_path(sqlite_database), isolation_level=None)
    before = _counter()
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction, as SQLite sees it
    errors: list = []
    writer = _bump_in_thread(errors)
    writer.join(0.3)
    assert writer.is_alive(), "the writer went past a held write lock"
    other.execute("COMMIT")
    writer.join(PATIENCE)
    assert not writer.is_alive() and errors == []
    assert _counter() == before + 1
    # the busy handler is back for the statements outside a BEGIN
    assert db.connection().execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT * 1000
    other.close()


def test_a_writer_gives_up_after_the_busy_timeout_and_frees_the_queue(sqlite_database, monkeypatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(_path(sqlite_database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    errors: list = []
    _bump_in_thread(errors).join(PATIENCE)
    assert len(errors) == 1 and isinstance(errors[0], peewee.OperationalError)
    assert "locked" in str(errors[0])
    other.execute("ROLLBACK")
    before = _counter()
    errors.clear()
    _bump_in_thread(errors).join(PATIENCE)  # would fail after 0.2 s if the queue were still held
    assert errors == [] and _counter() == before + 1
    other.close()


def test_threads_of_one_process_write_one_at_a_time(sqlite_database):
    # read-modify-write in a transaction: a lost update would show as a short count
    def work(errors: list) -> None:
        try:
            with db.connection_context():
                for _ in range(20):
                    with base.atomic():
                        seen = Change.get_by_id(1).counter
                        Change.update(counter=seen + 1).where(Change.id == 1).execute()
        except Exception as exc:
            errors.append(exc)

    before = _counter()
    errors: list = []
    threads = [threading.Thread(target=work, args=(errors,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PATIENCE)
    assert errors == [] and _counter() == before + 160


@pytest.mark.parametrize("end", ["close", "rollback"])
def test_a_transaction_ended_any_way_frees_the_queue(sqlite_database, monkeypatch, end):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT", 0.5)

    def abandon() -> None:
        db.connect(reuse_if_open=True)
        db.begin()
        Change.update(counter=Change.counter + 1).where(Change.id == 1).execute()
        db.close() if end == "close" else db.rollback()  # close: the pool rolls it back

    before = _counter()
    t = threading.Thread(target=abandon)
    t.start()
    t.join(PATIENCE)
    errors: list = []
    _bump_in_thread(errors).join(PATIENCE)
    assert errors == [] and _counter() == before + 1
