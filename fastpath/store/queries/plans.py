"""Plans and the queue of their jobs, as users see and change them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import peewee as pw

from fastpath.core.states import ACTIVE_PLAN, JobState, PlanState, Publish, plan_state
from fastpath.errors import Conflict, NotFound
from fastpath.store.models import Job, Plan, Sut, SutClass, User
from fastpath.store.queries.base import atomic, bump, lock, log, transition


def find_request(user: User, key: str | None) -> Plan | None:
    """The plan an earlier request with this Idempotency-Key made, if any."""
    if not key:
        return None
    return Plan.get_or_none((Plan.user == user.id) & (Plan.request_key == key))


MAX_QUEUED_JOBS = 100_000  # per user, by default (a 10,000-job plan is fine, ten of them too)


def check_queued(user: User, more: int, limit: int | None) -> None:
    """Conflict if `more` queued jobs would take the user past `limit` queued jobs."""
    if limit is None:
        return
    queued = Job.select().where((Job.user == user.id) & (Job.state == JobState.QUEUED)).count()
    if queued + more > limit:
        raise Conflict(f"too many queued jobs: user {user.name!r} has {queued} queued and this "
                       f"plan adds {more}; the limit is {limit} queued jobs per user "
                       "(the scheduler's --max-queued-jobs); wait for some to run, or cancel a plan")


def create_plan(user: User, cls: SutClass, document: dict, jobs: Sequence[tuple[int, int]],
                priority: int, publish: bool, now: float, key: str | None = None, *,
                max_queued: int | None = None) -> Plan:
    """A plan and its jobs, (swprofile, session) in queue order, in one transaction; Conflict if
    the user would have more than `max_queued` queued jobs (None: no limit)."""
    try:
        return _create_plan(user, cls, document, jobs, priority, publish, now, key, max_queued)
    except pw.IntegrityError:  # the same request, at the same moment
        earlier = find_request(user, key)
        if earlier is None:
            raise
        return earlier


def _create_plan(user, cls, document, jobs, priority, publish, now, key, max_queued) -> Plan:
    with atomic():
        lock(User, user.id)  # one submission of a user at a time counts its queued jobs
        check_queued(user, len(jobs), max_queued)
        plan = Plan.create(
            user=user.id, sutclass=cls.id, name=document.get("sut", {}).get("name"),
            state=PlanState.QUEUED, priority=priority, publish=publish, document=document,
            total_jobs=len(jobs), queued_at=now, request_key=key,
        )
        rows = [dict(plan=plan.id, sutclass=cls.id, user=user.id, swprofile=p, session=s,
                     state=JobState.QUEUED, priority=priority, queued_at=now) for p, s in jobs]
        for i in range(0, len(rows), 200):  # id order is queue order at equal time
            Job.insert_many(rows[i:i + 200]).execute()
        log(user.name, "plan", plan.id, None, PlanState.QUEUED, now, f"{len(jobs)} jobs")
        bump()
    return plan


def get_plan(id: int) -> Plan:
    plan = (Plan.select(Plan, User, SutClass).join(User).switch(Plan).join(SutClass)
            .where(Plan.id == id).first())
    if plan is None:
        raise NotFound(f"no plan {id}")
    return plan


def list_plans(states: list[str] | None, user_ids: list[int] | None) -> list[Plan]:
    query = Plan.select(Plan, User, SutClass).join(User).switch(Plan).join(SutClass)
    if states is not None:
        query = query.where(Plan.state.in_(states))
    if user_ids is not None:
        query = query.where(Plan.user.in_(user_ids))
    return list(query.order_by(Plan.id))


def job_counts(plan_ids: Sequence[int]) -> dict[int, Counter]:
    """plan id -> job states counted, and the results and errors recorded."""
    out: dict[int, Counter] = defaultdict(Counter)
    if not plan_ids:
        return out
    rows: Any = (Job.select(Job.plan, Job.state, pw.fn.COUNT(Job.id).alias("n"),
                       pw.fn.SUM(Job.results).alias("results"), pw.fn.SUM(Job.errors).alias("errors"),
                       pw.fn.SUM(pw.Case(None, [(Job.publish == Publish.PENDING, 1)], 0))
                       .alias("unpublished"))
            .where(Job.plan.in_(list(plan_ids))).group_by(Job.plan, Job.state).tuples())
    for plan_id, state, n, results, errors, unpublished in rows:
        out[plan_id][state] += n
        out[plan_id]["results"] += int(results or 0)
        out[plan_id]["errors"] += int(errors or 0)
        out[plan_id]["unpublished"] += int(unpublished or 0)
    return out


def plan_jobs(plan_id: int) -> list[Job]:
    return list(Job.select(Job, Sut).join(Sut, pw.JOIN.LEFT_OUTER).where(Job.plan == plan_id)
                .order_by(Job.id))


def _final(plan: Plan) -> None:
    current = Plan.get_by_id(plan.id).state
    if current not in ACTIVE_PLAN:
        raise Conflict(f"plan {plan.id} is already {current}")


def set_plan_priority(plan: Plan, priority: int, actor: str, now: float) -> Plan:
    """New priority for the plan and its still-queued jobs (they move in the queue)."""
    with atomic():
        _final(plan)
        Plan.update(priority=priority).where(Plan.id == plan.id).execute()
        Job.update(priority=priority).where(
            (Job.plan == plan.id) & (Job.state == JobState.QUEUED)).execute()
        log(actor, "plan", plan.id, None, None, now, f"priority {plan.priority} -> {priority}")
        bump()
    return get_plan(plan.id)


def cancel_plan(plan: Plan, actor: str, now: float) -> Plan:
    """Best effort: queued jobs are cancelled now; jobs on a SUT finish."""
    with atomic():
        _final(plan)
        Plan.update(cancel_requested=True).where(Plan.id == plan.id).execute()
        queued = Job.select(Job.id).where((Job.plan == plan.id) & (Job.state == JobState.QUEUED))
        for job in list(queued):
            transition(Job, job.id, JobState.QUEUED, JobState.CANCELLED, actor=actor, now=now,
                       finished_at=now)
        log(actor, "plan", plan.id, None, None, now, "cancel requested")
        rollup_plan(plan.id, now, actor=actor)
        bump()
    return get_plan(plan.id)


def rollup_plan(plan_id: int, now: float, *, actor: str = "controller") -> None:
    """Bring a plan's state in line with its jobs (compare-and-set)."""
    plan = Plan.get_by_id(plan_id)
    if plan.state not in ACTIVE_PLAN:
        return
    counts = job_counts([plan_id])[plan_id]
    started = plan.started_at is not None or any(
        counts.get(s, 0) for s in (JobState.ASSIGNED, JobState.RUNNING, JobState.COMPLETED,
                                   JobState.FAILED))
    new = plan_state(started, plan.cancel_requested, counts)
    if new == plan.state:
        return
    fields: dict[str, Any] = {}
    if new == PlanState.RUNNING or (started and plan.started_at is None):
        fields["started_at"] = plan.started_at or now
    if new not in ACTIVE_PLAN:
        fields["completed_at"] = now
    transition(Plan, plan_id, plan.state, new, actor=actor, now=now, **fields)


def active_plan_ids() -> list[int]:
    return [p.id for p in Plan.select(Plan.id).where(Plan.state.in_(ACTIVE_PLAN))]


def referenced_digests() -> set[str]:
    """Every upload digest a plan refers to (its swprofiles' file fields), finished plans too:
    a plan's files are kept as long as the plan is."""
    from fastpath.plan.schema import path_fields

    found: set[str] = set()
    for plan in Plan.select(Plan.document).iterator():
        try:
            found.update(value for _, value in path_fields(plan.document))
        except (KeyError, TypeError):  # a document of another shape refers to nothing
            continue
    return found
