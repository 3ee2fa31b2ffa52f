"""The publisher's failure count, kept on the job so that its backoff survives a restart."""

from __future__ import annotations

import peewee as pw

from fastpath.store.migrations import Migration


def upgrade(m: Migration) -> None:
    m.add_column("job", "publish_failures", pw.IntegerField(default=0))
