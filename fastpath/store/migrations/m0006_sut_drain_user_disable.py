"""An admin's drain of a SUT, kept apart from the configuration's `maintenance: true`; disabled users.

The drain is data (who, when, why), so that it survives restarts and reloads,
and so that removing `maintenance: true` from the file does not undo it.
"""

from __future__ import annotations

import peewee as pw

from fastpath.store.migrations import Migration


def upgrade(m: Migration) -> None:
    # The flags are nullable: SQLite adds a NOT NULL column to a table that others reference
    # only by rebuilding it, which its foreign keys refuse. Existing rows get False.
    m.add_column("sut", "declared_maintenance", pw.BooleanField(null=True, default=False))
    m.add_column("sut", "drained_at", pw.DoubleField(null=True))
    m.add_column("sut", "drained_by", pw.CharField(max_length=64, null=True))
    m.add_column("sut", "drain_reason", pw.TextField(null=True))
    m.add_column("user", "disabled", pw.BooleanField(null=True, default=False))
    for table, column in (("sut", "declared_maintenance"), ("user", "disabled")):
        t = pw.Table(table, (column,)).bind(m.db)
        t.update({getattr(t, column): False}).where(getattr(t, column).is_null()).execute()
