"""Numbered, forward-only schema migrations of the scheduler's database.

Each module `mNNNN_what.py` holds one `upgrade(m: Migration)`. A fresh
database is created from the models and stamped with the latest number; an
existing one runs every module above its recorded version, in order, one
recorded version per module. MariaDB commits each DDL statement on its own,
so every helper here is idempotent: a migration interrupted half-way simply
runs again.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

NAME = re.compile(r"^m(\d{4})_\w+$")


def steps() -> list[tuple[int, ModuleType]]:
    """Every migration module, by number."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = NAME.match(info.name)
        if match:
            found.append((int(match.group(1)), importlib.import_module(f"{__name__}.{info.name}")))
    numbers = [n for n, _ in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"two migrations share a number: {sorted(numbers)}")
    return sorted(found, key=lambda step: step[0])


def latest() -> int:
    """The schema version this code writes: that of its newest migration (1 is the first schema)."""
    return max([1] + [n for n, _ in steps()])


@dataclass
class Migration:
    """What a migration module works with: the database, its schema migrator and the time."""

    db: pw.Database
    now: float = field(default_factory=time.time)
    migrator: SchemaMigrator = field(init=False)

    def __post_init__(self) -> None:
        self.migrator = SchemaMigrator.from_database(self.db)

    def columns(self, table: str) -> set[str]:
        return {c.name for c in self.db.get_columns(table)}

    def add_column(self, table: str, name: str, column: pw.Field) -> None:
        if name not in self.columns(table):
            migrate(self.migrator.add_column(table, name, column))

    def add_index(self, table: str, columns: tuple[str, ...], unique: bool = False) -> None:
        have = {tuple(i.columns) for i in self.db.get_indexes(table)}
        if tuple(columns) not in have:
            migrate(self.migrator.add_index(table, columns, unique))

    def create_tables(self, *models: type[pw.Model]) -> None:
        self.db.create_tables(models, safe=True)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.db.execute_sql(sql, params)
