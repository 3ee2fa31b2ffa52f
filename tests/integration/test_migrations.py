"""Upgrading a lab's database: the schema-1 databases of release ab9b480, on all three backends.

`tests/data/schema1/*.sql` were written once by that release's code
(`make_dumps.py` beside them). Each test loads one into a scratch database,
upgrades it with this code and checks that nothing was lost and everything
still works. Every migration adds its own assertion to `test_upgrade_keeps_every_record`.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw
import pytest

from tests import databases
from tests.conftest import bind_clean
from tests.databases import KINDS, scratch_database

DUMPS = Path(__file__).parents[1] / "data" / "schema1"
# indexes that schema-1 databases created before they were declared lack (m0002)
LATE_INDEXES = {"job": ("sutclass_id", "state"), "lease": ("sutclass_id", "state")}


def load(kind: str, url: str) -> None:
    """Load the dump of `kind` into the empty database at `url`, as an operator would restore it."""
    sql = (DUMPS / f"{kind}.sql").read_text()
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if kind == "sqlite":
        with sqlite3.connect(parts.path[1:]) as conn:  # sqlite:///x -> x, sqlite:////abs -> /abs
            conn.executescript(sql)
        return
    if kind == "postgresql":
        cmd = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", databases.PG_HOST, "-U", databases.PG_USER,
               "-d", name]
        env = {**os.environ, "PGPASSWORD": databases.PG_PASSWORD}
    else:
        cmd = ["mariadb", "-h", databases.MYSQL_HOST, "-u", databases.MYSQL_USER, name]
        if databases.MYSQL_PASSWORD:
            cmd.insert(1, f"-p{databases.MYSQL_PASSWORD}")
        env = dict(os.environ)
    subprocess.run(cmd, input=sql, text=True, check=True, env=env, capture_output=True)


def drop_late_indexes() -> None:
    from fastpath.store.db import db

    for table, columns in LATE_INDEXES.items():
        for index in db.get_indexes(table):
            if tuple(index.columns) == columns:
                on = f" ON {table}" if isinstance(db.obj, pw.MySQLDatabase) else ""
                db.execute_sql(f"DROP INDEX {index.name}{on}")


def rebind(url: str):
    """Bind `url` from scratch (closing what an earlier test left open), migrating it."""
    from fastpath.store import db as dbmod

    if dbmod.db.obj is not None:
        if not dbmod.db.is_closed():
            dbmod.db.close()
        if hasattr(dbmod.db.obj, "close_all"):
            dbmod.db.obj.close_all()
    return dbmod.bind(url)


def layout() -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
    """Every table's columns and indexed column tuples."""
    from fastpath.store import models
    from fastpath.store.db import db

    out = {}
    for model in models.ALL:
        table = model._meta.table_name
        out[table] = ({c.name for c in db.get_columns(table)},
                      {tuple(i.columns) for i in db.get_indexes(table)})
    return out


@pytest.fixture(params=KINDS)
def old_database(request, tmp_path):
    """A scratch database holding the schema-1 dump of the backend, with the late indexes dropped."""
    from fastpath.store import db as dbmod
    from fastpath.store.db import open_database

    with scratch_database(request.param, str(tmp_path)) as url:
        load(request.param, url)
        raw = open_database(url)
        dbmod.db.initialize(raw)
        with dbmod.db.connection_context():
            drop_late_indexes()
        raw.close_all()
        yield request.param, url
        if not dbmod.db.is_closed():
            dbmod.db.close()
        if hasattr(dbmod.db.obj, "close_all"):
            dbmod.db.obj.close_all()


def test_upgrade_keeps_every_record(old_database):
    from fastpath.store import migrations, schema
    from fastpath.store.db import db
    from fastpath.store.models import Event, Job, Lease, Plan, Sut, SutClass, User

    kind, url = old_database
    before = time.time()
    rebind(url)
    with db.connection_context():
        assert schema.version() == migrations.latest() and schema.pending() == []
        upgraded = layout()
        assert {u.name for u in User.select()} == {"admin", "alice"}
        assert [c.name for c in SutClass.select()] == ["demo"]
        assert sorted(s.name for s in Sut.select()) == ["demo-01", "demo-02"]
        assert sorted((p.state, p.priority) for p in Plan.select()) == [("completed", 5), ("queued", 3)]
        jobs = sorted((j.plan_id, j.state, j.results) for j in Job.select())
        assert jobs == [(1, "completed", 3)] * 4 + [(2, "queued", 0)] * 4
        assert sorted((x.state, x.priority) for x in Lease.select()) == [("acquired", 7), ("released", 5)]
        assert Event.select().count() >= 14  # every transition of the old release, kept
        # m0006: no SUT drained or declared in maintenance, no user disabled, after an upgrade
        assert {(s.declared_maintenance, s.drained_at, s.drained_by) for s in Sut.select()} == {
            (False, None, None)}
        assert {u.disabled for u in User.select()} == {False}
        # m0007: the webhook outbox and its cursor, empty
        from fastpath.store.models import Cursor, Delivery

        assert Delivery.select().count() == 0 and Cursor.select().count() == 0
        # m0011: who holds which uploaded blob, empty; a user can be recorded as holding one
        from fastpath.store.models import BlobOwner
        from fastpath.store.queries import blobs

        assert BlobOwner.select().count() == 0
        holder = User.select().order_by(User.id).first()
        blobs.own(holder, ["sha256:" + "ab" * 32], 1.0)
        assert blobs.owned(holder, ["sha256:" + "ab" * 32]) == {"sha256:" + "ab" * 32}
        # m0002: the indexes exist whichever code created the database
        for table, columns in LATE_INDEXES.items():
            assert columns in upgraded[table][1], (table, upgraded[table][1])
        # m0003: a lease acquired before the upgrade gets the class default from the upgrade on
        held = Lease.get(Lease.state == "acquired")
        assert held.duration == 4 * 3600.0
        assert before + 4 * 3600.0 <= held.expires_at <= time.time() + 4 * 3600.0
        assert held.acquired_at < before  # its clock did not start at its old acquisition
        released = Lease.get(Lease.state == "released")
        assert (released.duration, released.expires_at) == (None, None)
        assert "lease_key" in upgraded and ("expires_at",) in upgraded["lease"][1]
    # the upgraded schema is exactly what a fresh database gets
    with scratch_database(kind) as fresh:
        bind_clean(fresh)
        with db.connection_context():
            assert layout() == upgraded
    rebind(url)


def test_upgraded_database_still_works(old_database):
    from fastpath.control.controller import Controller
    from fastpath.core.states import JobState, LeaseState
    from fastpath.store.db import db
    from fastpath.store.models import Job, Lease, Sut
    from fastpath.store.queries import leases, suts

    _, url = old_database
    rebind(url)
    now = 1_790_000_100.0
    with db.connection_context():
        for sut in Sut.select():
            suts.record_ok(sut.id, now)
        controller = Controller(clock=lambda: now)
        assert controller.lead()
        controller.allocate(now)  # the free SUT takes the queued plan's first job
        assigned = [j for j in Job.select() if j.state == JobState.ASSIGNED]
        assert len(assigned) == 1 and assigned[0].plan_id == 2
        held = Lease.get(Lease.state == LeaseState.ACQUIRED)
        released = leases.release_lease(held, "admin", now + 1)
        assert released.state == LeaseState.RELEASED
        controller.shutdown()


def test_two_processes_migrate_once(old_database):
    """Processes that start together: one migrates under the lock, the other finds it done."""
    from fastpath.store import migrations
    from fastpath.store.db import db
    from fastpath.store.models import SchemaVersion

    _, url = old_database
    argv = [sys.executable, "-m", "fastpath", "sched", "migrate", "--database", url]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum("Applied migrations" in out for out, _ in outs) == 1, outs
    rebind(url)
    with db.connection_context():
        versions = sorted(v.version for v in SchemaVersion.select())
    assert versions == [1] + [n for n, _ in migrations.steps()]


def test_check_reports_pending_and_refuses_a_newer_database(old_database):
    from fastpath.errors import Invalid
    from fastpath.store import migrations
    from fastpath.store.db import db
    from fastpath.store.models import SchemaVersion

    _, url = old_database
    argv = [sys.executable, "-m", "fastpath", "sched", "migrate", "--database", url, "--check"]
    before = subprocess.run(argv, capture_output=True, text=True)
    assert before.returncode == 1 and "Schema 1; pending migrations: 2" in before.stdout
    rebind(url)
    after = subprocess.run(argv, capture_output=True, text=True)
    assert after.returncode == 0 and "up to date" in after.stdout
    with db.connection_context():
        SchemaVersion.create(version=migrations.latest() + 1)
    with pytest.raises(Invalid, match="newer than this fastpath understands"):
        rebind(url)
