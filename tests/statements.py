"""Count the SQL statements a piece of code sends, on any backend.

peewee logs every statement it executes (`execute_sql`) at DEBUG on the
`peewee` logger; a handler collects them. Used to prove that a listing costs
the same number of statements for 1 record as for 50 (no N+1).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != "peewee":  # not the pool's messages ("peewee.pool")
            return
        msg = record.msg
        self.sql.append(msg[0] if isinstance(msg, tuple) else str(msg))


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements sent inside the block, in order (the list fills as they run)."""
    log = logging.getLogger("peewee")
    seen, level = _Seen(), log.level
    log.addHandler(seen)
    log.setLevel(logging.DEBUG)
    try:
        yield seen.sql
    finally:
        log.removeHandler(seen)
        log.setLevel(level)
