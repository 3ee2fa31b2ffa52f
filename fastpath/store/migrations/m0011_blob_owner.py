"""Who holds which uploaded blob (content-addressed uploads ahead of their plan, issue 15).

The table as this migration made it (not the live model, which may change later).
"""

from __future__ import annotations

import peewee as pw

from fastpath.store.migrations import Migration


class _User(pw.Model):
    class Meta:
        table_name = "user"


class _BlobOwner(pw.Model):
    user = pw.ForeignKeyField(_User, column_name="user_id")
    digest = pw.CharField(max_length=71)
    at = pw.DoubleField()

    class Meta:
        table_name = "blob_owner"
        indexes = ((("user", "digest"), True), (("digest",), False))


def upgrade(m: Migration) -> None:
    with m.db.bind_ctx([_User, _BlobOwner]):
        m.create_tables(_BlobOwner)
