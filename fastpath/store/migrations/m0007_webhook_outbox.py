"""The webhook outbox (a delivery row per event and endpoint) and the fan-out's cursor.

The tables as this migration made them (not the live models, which may change later).
"""

from __future__ import annotations

import peewee as pw

from fastpath.store.migrations import Migration


class _Delivery(pw.Model):
    event = pw.BigIntegerField()
    endpoint = pw.CharField(max_length=512)
    state = pw.CharField(max_length=16)
    attempts = pw.IntegerField(default=0)
    next_try_at = pw.DoubleField()
    last_error = pw.TextField(null=True)
    created_at = pw.DoubleField()
    delivered_at = pw.DoubleField(null=True)

    class Meta:
        table_name = "delivery"
        indexes = ((("state", "next_try_at"), False), (("event", "endpoint"), True))


class _Cursor(pw.Model):
    name = pw.CharField(max_length=32, unique=True)
    position = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "cursor"


def upgrade(m: Migration) -> None:
    with m.db.bind_ctx([_Delivery, _Cursor]):
        m.create_tables(_Delivery, _Cursor)
