"""The job and lease indexes added after schema 1, which `create_tables(safe=True)` never adds."""

from __future__ import annotations

from fastpath.store.migrations import Migration


def upgrade(m: Migration) -> None:
    m.add_index("lease", ("sutclass_id", "state"))
    m.add_index("job", ("sutclass_id", "state"))
