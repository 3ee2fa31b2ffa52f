"""The scheduler's tables. Models only: every query lives in `queries`.

Times are UTC seconds since the epoch (floats), the same in all three
databases. Which job or lease holds a SUT is derived from the active jobs and
leases, never stored on the SUT.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from fastpath.store.db import db


class JSONField(pw.TextField):
    """A JSON document in a text column, portable across the three databases."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    # peewee makes these at run time; the annotations (here and each `<fk>_id` below) tell mypy
    id: Any  # an int on a row, a field on the class

    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = pw.IntegerField()


class User(BaseModel):
    name = pw.CharField(max_length=64, unique=True)
    capabilities = pw.CharField(max_length=64)  # comma-separated, sorted
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DoubleField()
    disabled = pw.BooleanField(null=True, default=False)  # its token opens nothing (m0006)


class SutClass(BaseModel):
    name = pw.CharField(max_length=64, unique=True)
    provider = pw.CharField(max_length=32)
    enabled = pw.BooleanField(default=True)
    params = JSONField()  # the class's params without `suts`
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()


class Sut(BaseModel):
    name = pw.CharField(max_length=128, unique=True)
    sutclass = pw.ForeignKeyField(SutClass, backref="suts")
    sutclass_id: int
    host = pw.CharField(max_length=255)
    port = pw.IntegerField(default=22)
    user = pw.CharField(max_length=64, null=True)
    keyfile = pw.CharField(max_length=1024, null=True)  # never shown by the API
    params = JSONField()  # the class's params merged with the SUT's own overrides
    health = pw.CharField(max_length=16, index=True)
    reason = pw.TextField(null=True)  # why it is unhealthy
    host_key = pw.TextField(null=True)  # pinned on first contact: "<type> <base64>"
    facts = JSONField(null=True)  # machine id, base command line, fingerprint
    last_ok_at = pw.DoubleField(null=True)  # last successful SSH contact
    fresh_ok_at = pw.DoubleField(null=True)  # ... over a new connection, as a person would log in
    failures = pw.IntegerField(default=0)  # consecutive failed probes
    next_check_at = pw.DoubleField(null=True)
    created_at = pw.DoubleField()
    retired_at = pw.DoubleField(null=True)
    declared_maintenance = pw.BooleanField(null=True, default=False)  # `maintenance: true` in the file
    drained_at = pw.DoubleField(null=True)  # an admin's drain (sut-update --maintenance), if any
    drained_by = pw.CharField(max_length=64, null=True)
    drain_reason = pw.TextField(null=True)


class Lease(BaseModel):
    user = pw.ForeignKeyField(User)
    user_id: int
    sutclass = pw.ForeignKeyField(SutClass)
    sutclass_id: int
    sut = pw.ForeignKeyField(Sut, null=True)
    sut_id: int  # null where the foreign key is
    state = pw.CharField(max_length=16, index=True)
    priority = pw.IntegerField(default=5)
    queued_at = pw.DoubleField()
    acquired_at = pw.DoubleField(null=True)
    ended_at = pw.DoubleField(null=True)
    request_key = pw.CharField(max_length=64, null=True)  # the client's Idempotency-Key
    duration = pw.DoubleField(null=True)  # asked for; the clock starts at acquired_at
    expires_at = pw.DoubleField(null=True, index=True)  # acquired_at + duration, moved by extends
    warned_at = pw.DoubleField(null=True)  # when `lease expiring` was recorded for this deadline
    ssh_key = pw.TextField(null=True)  # the lessee's public key, "<type> <base64>"
    kernel_release = pw.CharField(max_length=255, null=True)  # running when it was acquired
    kernel_cmdline = pw.TextField(null=True)
    access_note = pw.TextField(null=True)  # why the lessee's key was not installed

    class Meta:
        # (sutclass, state): every controller pass asks for a class's acquired and queued
        # leases; without it SQLite walks the class's index over every ended lease too
        # (bench/controller_pass.py).
        indexes = ((("user", "request_key"), True), (("sutclass", "state"), False))


class LeaseKey(BaseModel):
    """A lessee's key that may be on a SUT: written before it is installed, closed once removed."""

    lease = pw.ForeignKeyField(Lease)
    lease_id: int
    sut = pw.ForeignKeyField(Sut)
    sut_id: int
    added_at = pw.DoubleField()
    removed_at = pw.DoubleField(null=True, index=True)


class Plan(BaseModel):
    user = pw.ForeignKeyField(User)
    user_id: int
    sutclass = pw.ForeignKeyField(SutClass)
    sutclass_id: int
    name = pw.CharField(max_length=255, null=True)
    state = pw.CharField(max_length=16, index=True)
    priority = pw.IntegerField(default=5)
    publish = pw.BooleanField(default=True)
    cancel_requested = pw.BooleanField(default=False)
    document = JSONField()  # the validated plan; uploaded files referred to by digest
    total_jobs = pw.IntegerField()
    queued_at = pw.DoubleField()
    started_at = pw.DoubleField(null=True)
    completed_at = pw.DoubleField(null=True)
    request_key = pw.CharField(max_length=64, null=True)  # the client's Idempotency-Key

    class Meta:
        indexes = ((("user", "request_key"), True),)


class Job(BaseModel):
    plan = pw.ForeignKeyField(Plan, backref="jobs")
    plan_id: int
    sutclass = pw.ForeignKeyField(SutClass)
    sutclass_id: int
    user = pw.ForeignKeyField(User)  # the plan's owner, for the fairness rule
    user_id: int
    swprofile = pw.IntegerField()  # index into the plan's swprofiles
    session = pw.IntegerField()  # 1-based session number of that swprofile
    state = pw.CharField(max_length=16, index=True)
    priority = pw.IntegerField(default=5)
    sut = pw.ForeignKeyField(Sut, null=True)
    sut_id: int  # null where the foreign key is
    attempts = pw.IntegerField(default=0)  # attempts started (infrastructure retries)
    boot_failures = pw.IntegerField(default=0)
    step = pw.CharField(max_length=32, null=True)  # the step recorded before it starts
    progress = JSONField(null=True)  # what the current attempt has recorded so far
    due_at = pw.DoubleField(null=True)  # when the controller next looks at it
    session_id = pw.CharField(max_length=36, null=True)
    last_error = pw.TextField(null=True)
    publish = pw.CharField(max_length=16, null=True, index=True)
    publish_failures = pw.IntegerField(default=0)  # failed publishes in a row, for the backoff
    results = pw.IntegerField(default=0)
    errors = pw.IntegerField(default=0)
    queued_at = pw.DoubleField()
    assigned_at = pw.DoubleField(null=True)
    finished_at = pw.DoubleField(null=True)

    class Meta:
        # The controller's every pass asks for a class's queued or active jobs; without this,
        # SQLite walks the class's index over every finished job too (bench/job_overhead.py).
        indexes = ((("sutclass", "state"), False),)


class Usage(BaseModel):
    """One interval during which a lease or a job held a SUT."""

    sut = pw.ForeignKeyField(Sut)
    sut_id: int
    sutclass = pw.ForeignKeyField(SutClass)
    sutclass_id: int
    user = pw.ForeignKeyField(User)
    user_id: int
    kind = pw.CharField(max_length=8)  # "lease" or "job"
    ref = pw.IntegerField()
    started_at = pw.DoubleField(index=True)
    ended_at = pw.DoubleField(null=True, index=True)


class Event(BaseModel):
    """Append-only audit log of every transition: who, what, from, to, when."""

    at = pw.DoubleField(index=True)
    actor = pw.CharField(max_length=64)
    kind = pw.CharField(max_length=16)
    ref = pw.IntegerField()
    old = pw.CharField(max_length=16, null=True)
    new = pw.CharField(max_length=16, null=True)
    detail = pw.TextField(null=True)


class Leader(BaseModel):
    name = pw.CharField(max_length=32, unique=True)
    holder = pw.CharField(max_length=128, null=True)
    renewed_at = pw.DoubleField(null=True)
    expires_at = pw.DoubleField(null=True)


class Change(BaseModel):
    """A counter bumped by every write the controller should react to."""

    counter = pw.BigIntegerField(default=0)


class Delivery(BaseModel):
    """The webhook outbox: one row per notified event and endpoint, until it is delivered."""

    event = pw.BigIntegerField()  # the Event's id
    endpoint = pw.CharField(max_length=512)
    state = pw.CharField(max_length=16)  # "pending" or "delivered"
    attempts = pw.IntegerField(default=0)
    next_try_at = pw.DoubleField()
    last_error = pw.TextField(null=True)
    created_at = pw.DoubleField()
    delivered_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("state", "next_try_at"), False), (("event", "endpoint"), True))


class Cursor(BaseModel):
    """How far a reader of the event log has got (the webhook fan-out: the last event id)."""

    name = pw.CharField(max_length=32, unique=True)
    position = pw.BigIntegerField(default=0)


class BlobOwner(BaseModel):
    """A user who has shown they hold a blob's content: uploaded it, or had it in a plan.

    Blobs are stored once per content, but a user may refer to one in a plan
    (or be told the server has it) only after sending those bytes once: a
    digest alone, seen in someone's plan, never gives access to the file.
    """

    user = pw.ForeignKeyField(User)
    user_id: int
    digest = pw.CharField(max_length=71)  # "sha256:<hex>"
    at = pw.DoubleField()  # last upload or use; rows of a swept blob go with it

    class Meta:
        indexes = ((("user", "digest"), True), (("digest",), False))


ALL = [SchemaVersion, User, SutClass, Sut, Lease, LeaseKey, Plan, Job, Usage, Event, Leader, Change,
       Delivery, Cursor, BlobOwner]
