"""Class queues as `fastpath.core.explain` reads them: holders, health, learnt durations.

A fixed number of queries for any number of classes and any length of queue:
every read is of all the classes asked for at once (`class_queues`), the
queued jobs of a 10,000-job plan are read once, and the durations are
aggregated per plan.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

import peewee as pw

from fastpath.core.explain import ClassQueue, Holder, SutInfo, expected_duration
from fastpath.core.schedule import Demand
from fastpath.core.states import HOLDING_JOB, JobState, LeaseState, SutState
from fastpath.store.models import Event, Job, Lease, Plan, Sut, SutClass, User

HISTORY_PLANS = 20  # past plans of a class looked at for the same benchmarks
HISTORY_JOBS = 50  # past jobs of one plan looked at for its durations


def class_queue(cls: SutClass) -> ClassQueue:
    """Everything the explanation of `cls`'s queue needs, read now."""
    return class_queues([cls])[cls.id]


def class_queues(classes: Collection[SutClass]) -> dict[int, ClassQueue]:
    """class id -> its queue, for all `classes` in one set of reads (none per class)."""
    ids = sorted({c.id for c in classes})
    if not ids:
        return {}
    demand: dict[int, list[Demand]] = defaultdict(list)
    hold_for: dict[int, dict[tuple[str, int], float | None]] = defaultdict(dict)
    plan_of: dict[int, dict[int, int]] = defaultdict(dict)
    for row in Lease.select(Lease.id, Lease.sutclass, Lease.user, Lease.priority, Lease.queued_at,
                            Lease.duration).where(Lease.sutclass.in_(ids)
                                                  & (Lease.state == LeaseState.QUEUED)):
        demand[row.sutclass_id].append(Demand("lease", row.id, row.user_id, row.priority,
                                              row.queued_at))
        hold_for[row.sutclass_id][("lease", row.id)] = row.duration
    for job in Job.select(Job.id, Job.sutclass, Job.plan, Job.user, Job.priority, Job.queued_at,
                          Job.progress).where(Job.sutclass.in_(ids) & (Job.state == JobState.QUEUED)):
        avoid = frozenset((job.progress or {}).get("avoid", []))
        demand[job.sutclass_id].append(Demand("job", job.id, job.user_id, job.priority,
                                              job.queued_at, avoid))
        plan_of[job.sutclass_id][job.id] = job.plan_id
    holders, held = _holders(ids)
    suts: dict[int, list[Sut]] = defaultdict(list)
    for s in (Sut.select(Sut.id, Sut.sutclass, Sut.name, Sut.health, Sut.reason)
              .where(Sut.sutclass.in_(ids) & (Sut.health != SutState.RETIRED)).order_by(Sut.name)):
        suts[s.sutclass_id].append(s)
    since = _health_since([s.id for ss in suts.values() for s in ss if s.health != SutState.HEALTHY])
    plans = {c: set(plan_of[c].values()) | {h.plan for h in holders[c].values() if h.plan is not None}
             for c in ids}
    expected = expected_by_plans(plans)
    out: dict[int, ClassQueue] = {}
    for cls in classes:
        mine = {sut: (Holder(h.kind, h.id, h.user, h.plan, h.started_at, expected.get(h.plan),
                             h.expires_at) if h.kind == "job" and h.plan is not None else h)
                for sut, h in holders[cls.id].items()}
        waits = hold_for[cls.id]
        waits.update({("job", job): expected.get(plan) for job, plan in plan_of[cls.id].items()})
        infos = [SutInfo(s.name, s.health, since.get(s.id), mine.get(s.id), s.reason)
                 for s in suts[cls.id]]
        out[cls.id] = ClassQueue(cls.name, infos, demand[cls.id], dict(held[cls.id]), waits,
                                 plan_of[cls.id])
    return out


def _holders(ids: list[int]) -> tuple[dict[int, dict[int, Holder]], dict[int, Counter]]:
    """class id -> {sut id -> what holds it}, and class id -> {user id -> SUTs held}."""
    out: dict[int, dict[int, Holder]] = defaultdict(dict)
    users: dict[int, dict[int, int]] = defaultdict(dict)  # class -> sut -> user (the last wins)
    leases = (Lease.select(Lease.id, Lease.sutclass, Lease.sut, Lease.user, Lease.acquired_at,
                           Lease.expires_at, User.id, User.name).join(User)
              .where(Lease.sutclass.in_(ids) & (Lease.state == LeaseState.ACQUIRED)
                     & Lease.sut.is_null(False)))
    for lease in leases:
        out[lease.sutclass_id][lease.sut_id] = Holder(
            "lease", lease.id, lease.user.name, started_at=lease.acquired_at,
            expires_at=lease.expires_at)
        users[lease.sutclass_id][lease.sut_id] = lease.user_id
    jobs = (Job.select(Job.id, Job.sutclass, Job.sut, Job.plan, Job.user, Job.assigned_at, User.id, User.name)
            .join(User)
            .where(Job.sutclass.in_(ids) & Job.state.in_(HOLDING_JOB) & Job.sut.is_null(False)))
    for job in jobs:
        out[job.sutclass_id][job.sut_id] = Holder("job", job.id, job.user.name, plan=job.plan_id,
                                                  started_at=job.assigned_at)
        users[job.sutclass_id][job.sut_id] = job.user_id
    held = {c: Counter(by_sut.values()) for c, by_sut in users.items()}
    return out, defaultdict(Counter, held)


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
    """plan id -> expected duration of one of its jobs (see `expected_by_plans`)."""
    return expected_by_plans({class_id: plan_ids})


def expected_by_plans(plans: dict[int, set[int]]) -> dict[int, float | None]:
    """plan id -> expected duration of one of its jobs, for the plans of each class given: from
    its own completed jobs, else from recent plans of the same benchmarks on its class; None
    without history."""
    ids = sorted(p for ps in plans.values() for p in ps)
    own = _durations(ids)
    out: dict[int, float | None] = {p: expected_duration(own.get(p, [])) for p in ids}
    missing = {c: [p for p in ps if out[p] is None] for c, ps in plans.items()}
    classes = [c for c, ps in missing.items() if ps]
    if not classes:
        return out
    recent = _recent_plans(classes, ids)
    past = _durations([p.id for p in recent])
    by_signature: dict[tuple[int, str], list[float]] = defaultdict(list)
    for p in recent:
        by_signature[(p.sutclass_id, _signature(p.document))] += past.get(p.id, [])
    wanted = [p for c in classes for p in missing[c]]
    for p in Plan.select(Plan.id, Plan.sutclass, Plan.document).where(Plan.id.in_(wanted)):
        out[p.id] = expected_duration(by_signature.get((p.sutclass_id, _signature(p.document)), []))
    return out


def _recent_plans(classes: list[int], exclude: list[int]) -> list[Plan]:
    """The latest HISTORY_PLANS started plans of each class, but those in `exclude`."""
    rank = pw.fn.ROW_NUMBER().over(partition_by=[Plan.sutclass], order_by=[Plan.id.desc()])
    ranked = (Plan.select(Plan.id, rank.alias("n"))
              .where(Plan.sutclass.in_(classes) & Plan.id.not_in(exclude or [0])
                     & Plan.started_at.is_null(False)).alias("ranked"))
    return list(Plan.select(Plan.id, Plan.sutclass, Plan.document)
                .join(ranked, on=(Plan.id == ranked.c.id))
                .where(ranked.c.n <= HISTORY_PLANS))
