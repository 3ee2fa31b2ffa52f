"""A class's queue as `fastpath.core.explain` reads it: holders, health, learnt durations.

A handful of queries per class, whatever the length of its queue: the queued
jobs of a 10,000-job plan are read once, and the durations are aggregated by
the database per plan.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import peewee as pw

from fastpath.core.explain import ClassQueue, Holder, SutInfo, expected_duration
from fastpath.core.states import HOLDING_JOB, JobState, LeaseState, SutState
from fastpath.store.models import Event, Job, Lease, Plan, Sut, SutClass, User
from fastpath.store.queries import control

HISTORY_PLANS = 20  # past plans of a class looked at for the same benchmarks
HISTORY_JOBS = 50  # past jobs of one plan looked at for its durations


def class_queue(cls: SutClass) -> ClassQueue:
    """Everything the explanation of `cls`'s queue needs, read now."""
    demand = control.demand(cls.id)
    held_counts = control.held_counts(cls.id)
    holders = _holders(cls.id)
    suts = list(Sut.select(Sut.id, Sut.name, Sut.health, Sut.reason).where(
        (Sut.sutclass == cls.id) & (Sut.health != SutState.RETIRED)).order_by(Sut.name))
    since = _health_since([s.id for s in suts if s.health != SutState.HEALTHY])
    plan_of = {j.id: j.plan_id for j in Job.select(Job.id, Job.plan).where(
        (Job.sutclass == cls.id) & (Job.state == JobState.QUEUED))}
    plans = set(plan_of.values()) | {h.plan for h in holders.values() if h.plan is not None}
    expected = expected_by_plan(cls.id, plans)
    holders = {sut: (Holder(h.kind, h.id, h.user, h.plan, h.started_at,
                            expected.get(h.plan) if h.plan is not None else None,
                            h.expires_at) if h.kind == "job" else h)
               for sut, h in holders.items()}
    hold_for: dict[tuple[str, int], float | None] = {
        ("job", job): expected.get(plan) for job, plan in plan_of.items()}
    for lease in Lease.select().where((Lease.sutclass == cls.id) & (Lease.state == LeaseState.QUEUED)):
        # a lease's time limit, when leases have one (the lease-expiry work adds `duration`)
        hold_for[("lease", lease.id)] = getattr(lease, "duration", None)
    infos = [SutInfo(s.name, s.health, since.get(s.id), holders.get(s.id), s.reason) for s in suts]
    return ClassQueue(cls.name, infos, demand, held_counts, hold_for, plan_of)


def _holders(class_id: int) -> dict[int, Holder]:
    out: dict[int, Holder] = {}
    leases = (Lease.select(Lease, User.name).join(User)
              .where((Lease.sutclass == class_id) & (Lease.state == LeaseState.ACQUIRED)
                     & Lease.sut.is_null(False)))
    for lease in leases:
        out[lease.sut_id] = Holder("lease", lease.id, lease.user.name, started_at=lease.acquired_at,
                                   expires_at=getattr(lease, "expires_at", None))
    jobs = (Job.select(Job.id, Job.sut, Job.plan, Job.assigned_at, User.name).join(User)
            .where((Job.sutclass == class_id) & Job.state.in_(HOLDING_JOB) & Job.sut.is_null(False)))
    for job in jobs:
        out[job.sut_id] = Holder("job", job.id, job.user.name, plan=job.plan_id,
                                 started_at=job.assigned_at)
    return out


def _health_since(sut_ids: list[int]) -> dict[int, float]:
    """sut id -> when it last changed health (the event log), for the SUTs given."""
    if not sut_ids:
        return {}
    rows: Any = (Event.select(Event.ref, pw.fn.MAX(Event.at).alias("at"))
            .where((Event.kind == "sut") & Event.ref.in_(sut_ids) & Event.new.is_null(False))
            .group_by(Event.ref).tuples())
    return {ref: at for ref, at in rows}


def _durations(plan_ids: list[int]) -> dict[int, list[float]]:
    """plan id -> how long its latest completed jobs held their SUT."""
    out: dict[int, list[float]] = defaultdict(list)
    if not plan_ids:
        return out
    rows: Any = (Job.select(Job.plan, Job.assigned_at, Job.finished_at)
            .where(Job.plan.in_(plan_ids) & (Job.state == JobState.COMPLETED)
                   & Job.assigned_at.is_null(False) & Job.finished_at.is_null(False))
            .order_by(Job.finished_at.desc()).tuples())
    for plan, start, end in rows:
        if len(out[plan]) < HISTORY_JOBS:
            out[plan].append(end - start)
    return out


def _signature(document: dict) -> str:
    """Plans run the same benchmarks when their resolved benchmark lists are equal; the number
    of sessions makes more jobs, not longer ones."""
    benchmarks = [{k: v for k, v in b.items() if k != "sessions"} for b in document.get("benchmarks", [])]
    return json.dumps(benchmarks, sort_keys=True)


def expected_by_plan(class_id: int, plan_ids: set[int]) -> dict[int, float | None]:
    """plan id -> expected duration of one of its jobs: from its own completed jobs, else from
    recent plans of the same benchmarks on the class; None without history."""
    ids = sorted(plan_ids)
    own = _durations(ids)
    out: dict[int, float | None] = {p: expected_duration(own.get(p, [])) for p in ids}
    missing = [p for p in ids if out[p] is None]
    if not missing:
        return out
    recent = list(Plan.select(Plan.id, Plan.document)
                  .where((Plan.sutclass == class_id) & Plan.id.not_in(ids)
                         & Plan.started_at.is_null(False))
                  .order_by(Plan.id.desc()).limit(HISTORY_PLANS))
    past = _durations([p.id for p in recent])
    by_signature: dict[str, list[float]] = defaultdict(list)
    for p in recent:
        by_signature[_signature(p.document)] += past.get(p.id, [])
    for p in Plan.select(Plan.id, Plan.document).where(Plan.id.in_(missing)):
        out[p.id] = expected_duration(by_signature.get(_signature(p.document), []))
    return out
