"""Leases with a deadline and the lessee's own key (issue 13).

Leases already `acquired` when the database is upgraded get their class's
default duration counted from the upgrade: never an instant expiry.
"""

from __future__ import annotations

import json

import peewee as pw

from fastpath.core.leasetime import limits
from fastpath.store.migrations import Migration
from fastpath.store.models import LeaseKey


def upgrade(m: Migration) -> None:
    m.add_column("lease", "duration", pw.DoubleField(null=True))
    m.add_column("lease", "expires_at", pw.DoubleField(null=True))
    m.add_column("lease", "warned_at", pw.DoubleField(null=True))
    m.add_column("lease", "ssh_key", pw.TextField(null=True))
    m.add_column("lease", "kernel_release", pw.CharField(max_length=255, null=True))
    m.add_column("lease", "kernel_cmdline", pw.TextField(null=True))
    m.add_column("lease", "access_note", pw.TextField(null=True))
    m.add_column("sut", "fresh_ok_at", pw.DoubleField(null=True))
    m.add_index("lease", ("expires_at",))
    m.create_tables(LeaseKey)
    rows = m.db.execute_sql(
        "SELECT lease.id, sut_class.params FROM lease JOIN sut_class ON lease.sutclass_id = sut_class.id"
        " WHERE lease.state = 'acquired' AND lease.expires_at IS NULL").fetchall()
    for lease_id, params in rows:
        default, _ = limits(json.loads(params) if params else {})
        m.execute("UPDATE lease SET duration = %s, expires_at = %s WHERE id = %s AND expires_at IS NULL"
                  .replace("%s", m.db.param), (default, m.now + default, lease_id))
