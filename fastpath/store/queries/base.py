"""What every query module shares: compare-and-set, the event log, the change counter."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from peewee import PostgresqlDatabase

from fastpath.core import states
from fastpath.store.changes import CHANNEL, announce, channel_dir
from fastpath.store.db import db
from fastpath.store.models import BaseModel, Change, Event


def atomic():
    """One transaction; on SQLite it begins IMMEDIATE, so writers queue instead of failing."""
    return db.atomic()


def transition(
    model: type[BaseModel],
    id: int,
    old: StrEnum | str | tuple[StrEnum, ...],
    new: StrEnum,
    *,
    actor: str,
    now: float,
    detail: str | None = None,
    field: str = "state",
    **fields: Any,
) -> bool:
    """Move one record from `old` to `new` (compare-and-set) and log it; False if it had moved.

    A move that is not in the state table (`fastpath.core.states.TRANSITIONS`) is
    refused with ValueError, whatever the record's state.
    """
    olds = old if isinstance(old, tuple) else (old,)
    for each in olds:
        states.check(each, new)
    column = getattr(model, field)
    row = model.get_or_none(model.id == id)
    current = None if row is None else getattr(row, field)
    if current not in olds:
        return False
    query = model.update({column: new, **fields}).where((model.id == id) & (column == current))
    if query.execute() != 1:
        return False
    log(actor, model._meta.table_name, id, current, new, now, detail)
    return True


def log(actor: str, kind: str, ref: int, old, new, now: float, detail: str | None = None) -> None:
    Event.insert(
        at=now, actor=actor, kind=kind, ref=ref,
        old=None if old is None else str(old), new=None if new is None else str(new),
        detail=detail,
    ).execute()


def bump() -> None:
    """Tell the controller and the API's waiters that state changed (`fastpath.store.changes`)."""
    Change.update(counter=Change.counter + 1).where(Change.id == 1).execute()
    database = db.obj
    if isinstance(database, PostgresqlDatabase):
        database.execute_sql(f"NOTIFY {CHANNEL}")  # delivered at commit, dropped at rollback
        return
    directory = channel_dir(database)
    if directory is not None:  # after the commit: a waiter woken earlier would read the old state
        database.after_commit(lambda: announce(directory))


def listen(connection, channel: str) -> None:
    """Subscribe a raw (autocommit) PostgreSQL connection to the change NOTIFYs."""
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {channel}")


def changes() -> int:
    row = Change.get_or_none(Change.id == 1)
    return row.counter if row else 0


def lock(model: type[BaseModel], id: int) -> None:
    """Hold the row's lock until the transaction ends (SQLite's IMMEDIATE already serialises)."""
    if db.obj.for_update:
        list(model.select(model.id).where(model.id == id).for_update())
