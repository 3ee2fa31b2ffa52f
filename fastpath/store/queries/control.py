"""What the controller reads to decide, and its leadership."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import cast

import peewee as pw

from fastpath.core.schedule import Demand, FreeSut, PlanJob
from fastpath.core.states import FINAL_JOB, HOLDING_JOB, JobState, LeaseState, SutState
from fastpath.errors import LostLeadership, StaleWrite
from fastpath.store.db import db
from fastpath.store.models import Job, Leader, Lease, LeaseKey, Plan, Sut, SutClass
from fastpath.store.queries.base import atomic
from fastpath.store.queries.inventory import holders

LEADER = "controller"


def take_leadership(holder: str, now: float, ttl: float) -> bool:
    """Become (or stay) the active controller; False while another holds an unexpired lead.

    On PostgreSQL it never queues behind a frozen leader's row lock: after a
    short lock_timeout it returns False, and the caller tries again later.
    """
    try:
        return _take(holder, now, ttl)
    except pw.OperationalError as exc:
        if _lock_timeout(exc):
            return False
        raise


def _lock_timeout(exc: Exception) -> bool:
    return getattr(getattr(exc, "__cause__", None) or exc, "pgcode", None) == "55P03" or \
        "lock timeout" in str(exc)


def _session_limits(ttl: float, lock: float) -> None:
    """PostgreSQL limits for this transaction: a frozen session gives up its locks within ttl/2."""
    if isinstance(db.obj, pw.PostgresqlDatabase):
        db.execute_sql(f"SET LOCAL lock_timeout = {int(lock * 1000)}")
        db.execute_sql(f"SET LOCAL statement_timeout = {int(ttl * 1000)}")
        db.execute_sql(f"SET LOCAL idle_in_transaction_session_timeout = {int(ttl * 500)}")


def _take(holder: str, now: float, ttl: float) -> bool:
    with atomic():
        _session_limits(ttl, lock=min(0.5, ttl / 4))
        row = Leader.get_or_none(Leader.name == LEADER)
        if row is None:
            try:
                with atomic():
                    Leader.create(name=LEADER, holder=holder, renewed_at=now, expires_at=now + ttl)
                return True
            except pw.IntegrityError:
                return False
        taken = (
            Leader.update(holder=holder, renewed_at=now, expires_at=now + ttl)
            .where(
                (Leader.name == LEADER)
                & ((Leader.holder == holder) | Leader.holder.is_null() | (Leader.expires_at < now))
            )
            .execute()
        )
        return taken == 1


def take_over(holder: str, dead: str, now: float, ttl: float) -> bool:
    """Take the lead from `dead`, a holder known to be gone, before its lead expires."""
    with atomic():
        taken = (
            Leader.update(holder=holder, renewed_at=now, expires_at=now + ttl)
            .where((Leader.name == LEADER) & (Leader.holder == dead))
            .execute()
        )
    return taken == 1


def release_leadership(holder: str) -> None:
    """Give up the lead on a clean stop, so that a standby takes over at once."""
    Leader.update(holder=None, expires_at=0).where(
        (Leader.name == LEADER) & (Leader.holder == holder)
    ).execute()


def leader() -> Leader | None:
    return Leader.get_or_none(Leader.name == LEADER)


@contextmanager
def leading(holder: str, clock: Callable[[], float], ttl: float, stamp: float) -> Iterator[float]:
    """A transaction that commits only while `holder` still leads (fencing); yields its time.

    The lead is checked and renewed first, and again at the end with the time
    then, so that a controller frozen mid-transaction past its lead commits
    nothing. Time stamps are taken at commit: every write inside stamps with
    the time yielded (or a later `clock()`), and the transaction commits only
    if that is at most `stamp` seconds before the final check, else it raises
    StaleWrite (rolled back; the caller's next pass does it again). On
    PostgreSQL the session limits make a frozen transaction lose its locks
    (and its commit) within ttl/2, so the leader row is never held from a
    standby longer than a lead, nor a stamp kept past that.
    """
    with atomic():
        _session_limits(ttl, lock=ttl / 2)
        _renew(holder, clock(), ttl)
        begun = clock()  # after the first write: a wait for the write lock is not staleness
        yield begun
        _renew(holder, clock(), ttl)
        if (late := clock() - begun) > stamp:
            raise StaleWrite(f"stalled {late:.1f}s inside a write (more than {stamp}s): not committed")


def _renew(holder: str, now: float, ttl: float) -> None:
    renewed = (
        Leader.update(renewed_at=now, expires_at=now + ttl)
        .where((Leader.name == LEADER) & (Leader.holder == holder) & (Leader.expires_at >= now))
        .execute()
    )
    if renewed != 1:
        raise LostLeadership()


def enabled_classes() -> list[SutClass]:
    return list(SutClass.select().where(SutClass.enabled).order_by(SutClass.id))


def demand(class_id: int, now: float | None = None) -> list[Demand]:
    """Queued jobs and leases of a class (unordered: `schedule` orders them).

    Given `now`, only what may be handed a SUT now: a job queued again after a
    failed attempt waits out its backoff (`due_at`) first.
    """
    # tuples, not models: a pass that frees one SUT reads the class's whole queue, and building
    # a model per queued row was most of its time (bench/controller_scale.py)
    leases = Lease.select(Lease.id, Lease.user, Lease.priority, Lease.queued_at).where(
        (Lease.sutclass == class_id) & (Lease.state == LeaseState.QUEUED))
    out = [Demand("lease", *row) for row in cast(Iterable[tuple], leases.tuples())]
    queued = (Job.sutclass == class_id) & (Job.state == JobState.QUEUED)
    if now is not None:
        queued &= Job.due_at.is_null() | (Job.due_at <= now)
    jobs = Job.select(Job.id, Job.user, Job.priority, Job.queued_at, Job.progress).where(queued)
    for id, user, priority, queued_at, progress in cast(Iterable[tuple], jobs.tuples()):
        avoid = frozenset((progress or {}).get("avoid", []))
        out.append(Demand("job", id, user, priority, queued_at, avoid))
    return out


def placing(class_id: int) -> list[tuple[str, list[PlanJob]]]:
    """(placement, jobs) of each plan with a job queued in the class, for `schedule.placing`.

    Every job of such a plan counts: those that ran or run weigh on the balance.
    """
    queued = (Job.select(Job.plan).where((Job.sutclass == class_id) & (Job.state == JobState.QUEUED))
              .distinct())
    plans = {p.id: (p.document.get("sut") or {}).get("placement") or "spread"
             for p in Plan.select(Plan.id, Plan.document).where(Plan.id.in_(queued))}
    out: dict[int, list[PlanJob]] = {id: [] for id in plans}
    rows = (Job.select(Job.id, Job.plan, Job.session, Job.swprofile, Job.state, Job.sut,
                       Job.assigned_at, Job.progress)
            .where(Job.plan.in_(list(plans))).tuples())  # tuples: a 10,000-job plan is read often
    for id, plan, session, swprofile, job_state, sut, assigned_at, progress in cast(Iterable[tuple], rows):
        if job_state == JobState.QUEUED:
            state = "queued"
        elif job_state in HOLDING_JOB:
            state = "holding"
        elif job_state in FINAL_JOB and sut is not None:
            state = "done"
        else:
            continue
        avoid = frozenset((progress or {}).get("avoid", [])) if state == "queued" else frozenset()
        out[plan].append(PlanJob(id, session, swprofile, state, sut, assigned_at, avoid))
    return [(plans[id], jobs) for id, jobs in sorted(out.items())]


def held_counts(class_id: int) -> dict[int, int]:
    """user id -> SUTs of the class that user holds now."""
    return dict(Counter(user for _, _, user in holders(class_id).values()))


def usable_suts(class_id: int) -> list[Sut]:
    """Healthy SUTs of the class (in maintenance, retired or unhealthy ones are not handed out)."""
    return list(Sut.select().where((Sut.sutclass == class_id) & (Sut.health == SutState.HEALTHY)))


def free_suts(class_id: int, now: float, fresh_within: float,
              keyed: set[int] | None = None) -> list[FreeSut]:
    """Healthy SUTs nobody holds and no lessee's key is still on; `fresh`: answered a new
    connection within `fresh_within` (a cached connection proves nothing about the next login).
    `keyed`: `suts_with_stale_keys()` if the caller has it (once per pass, not per class)."""
    held = holders(class_id)
    keyed = suts_with_stale_keys() if keyed is None else keyed
    return [
        FreeSut(s.id, fresh=s.fresh_ok_at is not None and now - s.fresh_ok_at <= fresh_within)
        for s in usable_suts(class_id)
        if s.id not in held and s.id not in keyed
    ]


def stale_keys() -> list[LeaseKey]:
    """Lessee keys that may still be on a SUT although their lease no longer holds it there."""
    rows = (LeaseKey.select(LeaseKey, Lease).join(Lease)
            .where(LeaseKey.removed_at.is_null()))
    return [r for r in rows if not (r.lease.state == LeaseState.ACQUIRED and r.lease.sut_id == r.sut_id)]


def suts_with_stale_keys() -> set[int]:
    return {r.sut_id for r in stale_keys()}
