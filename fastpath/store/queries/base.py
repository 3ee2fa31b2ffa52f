"""What every query module shares: compare-and-set, the event log, the change counter."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import peewee as pw
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
    current = next(iter(_state_of(model, field)(id)), (None,))[0]
    if current not in olds:
        return False
    query = model.update({column: new, **fields}).where((model.id == id) & (column == current))
    if query.execute() != 1:
        return False
    log(actor, model._meta.table_name, id, current, new, now, detail)
    return True


_states: dict[tuple[type[BaseModel], str], Prepared] = {}


def _state_of(model: type[BaseModel], field: str) -> Prepared:
    """The prepared read of one record's state column: every transition starts with it."""
    key = (model, field)
    if key not in _states:
        column = getattr(model, field)
        _states[key] = Prepared(lambda id: model.select(column).where(model.id == id).tuples())
    return _states[key]


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
    row = next(iter(_counter()), None)
    return row[0] if row else 0


def lock(model: type[BaseModel], id: int) -> None:
    """Hold the row's lock until the transaction ends (SQLite's IMMEDIATE already serialises)."""
    if db.obj.for_update:
        list(model.select(model.id).where(model.id == id).for_update())


class _Slot:
    """Where one argument of a prepared query goes (a parameter, until it is called)."""

    __slots__ = ()


class Prepared:
    """A SELECT whose SQL is built once per database kind and shape, then only executed.

    Building the SQL string is most of what peewee costs for a small read (issue 15: 43 %
    of an API worker's CPU). `build(*args)` makes the query from `pw.Value` parameters
    in place of the arguments (a list argument: a list of them; None stays None, and
    makes a shape of its own); a call fills in the values and executes the SQL built for
    its shape. Rows come back as the query's own (models with their joins).
    """

    MAX_SHAPES = 64  # shapes kept (list lengths vary); then all are forgotten

    def __init__(self, build: Callable[..., pw.Query]) -> None:
        self.build = build
        self._built: dict[tuple, tuple[pw.Query, str, list]] = {}

    def __call__(self, *args: Any) -> Any:
        """The query's cursor wrapper: iterate it for the rows."""
        shape = (type(db.obj), tuple(None if a is None else len(a) if isinstance(a, list | tuple)
                                     else -1 for a in args))
        built = self._built.get(shape)
        if built is None:
            built = self._prepare(shape, args)
        query, sql, params = built
        values = iter(_flat(args))
        filled = [_plain(next(values)) if isinstance(p, _Slot) else p for p in params]
        # how peewee turns a cursor into the rows of this query (its models and their joins)
        return query._get_cursor_wrapper(db.execute_sql(sql, filled))  # type: ignore[attr-defined]

    def _prepare(self, shape: tuple, args: tuple) -> tuple[pw.Query, str, list]:
        marks = [None if a is None else [_Slot() for _ in a] if isinstance(a, list | tuple)
                 else _Slot() for a in args]
        query = self.build(*[None if m is None else pw.Value(m, converter=False) for m in marks])
        sql, params = query.sql()
        order = {id(s): i for i, s in enumerate(_flat(marks))}
        slots = [p for p in params if isinstance(p, _Slot)]
        if [order[id(s)] for s in slots] != list(range(len(order))):
            raise ValueError("a prepared query must use each argument once, in order")
        if len(self._built) >= self.MAX_SHAPES:
            self._built.clear()
        self._built[shape] = (query, sql, params)
        return self._built[shape]


def _flat(args) -> list:
    out: list = []
    for a in args:
        if a is None:
            continue
        out.extend(a) if isinstance(a, list | tuple) else out.append(a)
    return out


def _plain(value):
    """What peewee's field conversion would pass for our argument types (enums as their value)."""
    return value.value if isinstance(value, StrEnum) else value


_counter = Prepared(lambda: Change.select(Change.counter).where(Change.id == 1).tuples())
