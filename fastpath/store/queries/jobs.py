"""Jobs as the controller drives them: assignment, recorded steps, outcomes."""

from __future__ import annotations

import uuid
from typing import Any

import peewee as pw

from fastpath.core.states import HOLDING_JOB, JobState, JobStep, Publish
from fastpath.errors import NotFound
from fastpath.store.models import Job, Plan, Sut, Usage
from fastpath.store.queries.base import atomic, bump, log, transition
from fastpath.store.queries.inventory import claim
from fastpath.store.queries.plans import rollup_plan

ACTOR = "controller"
MAX_ATTEMPTS = 3


def get_job(id: int) -> Job:
    return Job.get_by_id(id)


def find_job(id: int) -> Job:
    """A job with its plan and SUT, as users read it; NotFound if there is none."""
    job = (Job.select(Job, Plan, Sut).join(Plan).switch(Job).join(Sut, pw.JOIN.LEFT_OUTER)
           .where(Job.id == id).first())
    if job is None:
        raise NotFound(f"no job {id}")
    return job


def assign_job(job_id: int, sut_id: int, now: float, *, placement: str | None = None) -> bool:
    """Hand a free, healthy SUT to a queued job; False if either has moved on.

    `placement`: why the job did not go where its plan's placement wanted (the
    manifest carries it into the resultstore, and the event log records it).
    """
    with atomic():
        sut = claim(sut_id)
        if sut is None:
            return False
        job = Job.get_by_id(job_id)
        progress = {k: v for k, v in (job.progress or {}).items() if k == "avoid"}
        progress["nonce"] = uuid.uuid4().hex[:12]  # names its directory on the SUT (runs.job_path)
        progress["steps"] = [["connect", now]]  # when each step of this attempt began
        if placement:
            progress["placement"] = placement
        detail = f"{sut.name}; {placement}" if placement else sut.name
        if not transition(Job, job_id, JobState.QUEUED, JobState.ASSIGNED, actor=ACTOR, now=now,
                          detail=detail, sut=sut_id, assigned_at=now, attempts=job.attempts + 1,
                          step=JobStep.CONNECT, progress=progress, due_at=now, last_error=job.last_error):
            return False
        Usage.create(sut=sut_id, sutclass=sut.sutclass_id, user=job.user_id, kind="job", ref=job_id,
                     started_at=now)
        rollup_plan(job.plan_id, now)
        bump()
    return True


def jobs_due(now: float) -> list[int]:
    """Jobs on a SUT whose next step is due."""
    query = Job.select(Job.id).where(Job.state.in_(HOLDING_JOB) & (Job.due_at <= now))
    return [j.id for j in query.order_by(Job.due_at)]


def record_step(job: Job, step: str, now: float, *, progress: dict | None = None,
                due_at: float | None = None, **fields) -> bool:
    """Record the job's next step before it starts (compare-and-set on the current step).

    A change of step is also timed: `progress["steps"]` lists [step, began at] of the attempt.
    """
    progress = dict(job.progress or {}) if progress is None else progress
    if step != job.step:
        progress = {**progress, "steps": [*progress.get("steps", []), [step, now]]}
    n = Job.update(step=step, progress=progress,
                   due_at=now if due_at is None else due_at, **fields).where(
        (Job.id == job.id) & (Job.step == job.step) & (Job.state.in_(HOLDING_JOB))
    ).execute()
    if n == 1:
        job.step = step
        job.progress = progress
    return n == 1


def start_running(job: Job, now: float) -> bool:
    return transition(Job, job.id, JobState.ASSIGNED, JobState.RUNNING, actor=ACTOR, now=now)


def _end_usage(job_id: int, now: float) -> None:
    Usage.update(ended_at=now).where(
        (Usage.kind == "job") & (Usage.ref == job_id) & Usage.ended_at.is_null()).execute()


def requeue_job(job: Job, reason: str, now: float, *, retry_at: float | None = None,
                avoid: list[int] | None = None, boot_failure: bool = False) -> str:
    """An attempt failed for a reason that is not the job's fault: queue it again.

    The job is not handed a SUT before `retry_at`. After MAX_ATTEMPTS attempts
    (or two boot failures) the job fails instead. Returns the job's new state.
    """
    with atomic():
        current = Job.get_by_id(job.id)
        if current.state not in HOLDING_JOB:
            return current.state
        boots = current.boot_failures + (1 if boot_failure else 0)
        give_up = current.attempts >= MAX_ATTEMPTS or boots >= 2
        new = JobState.FAILED if give_up else JobState.QUEUED
        progress = {"avoid": avoid} if avoid else {}
        fields: dict[str, Any] = dict(
            sut=None, step=None, progress=progress, due_at=None if give_up else retry_at,
            last_error=reason[:4000], boot_failures=boots, session_id=None)
        if give_up:
            fields["finished_at"] = now
        transition(Job, job.id, current.state, new, actor=ACTOR, now=now, detail=reason[:2000],
                   **fields)
        _end_usage(job.id, now)
        rollup_plan(job.plan_id, now)
        bump()
    return new


def finish_job(job: Job, state: JobState, now: float, *, publish: bool, results: int = 0,
               errors: int = 0, reason: str | None = None) -> bool:
    """The job is done with its SUT: record the outcome and free the SUT."""
    with atomic():
        done = transition(
            Job, job.id, HOLDING_JOB, state, actor=ACTOR, now=now, detail=reason,
            finished_at=now, step=JobStep.DONE, due_at=now, results=results, errors=errors,
            # a completed job's last error is its last failed benchmark's (the runner records it)
            last_error=reason if reason is not None else (job.progress or {}).get("benchmark_error"),
            publish=(Publish.PENDING if publish else Publish.SKIPPED)
            if state == JobState.COMPLETED else None,
        )
        if done:
            _end_usage(job.id, now)
            rollup_plan(job.plan_id, now)
            bump()
    return done


def publish_due(now: float) -> list[int]:
    query = Job.select(Job.id).where((Job.publish == Publish.PENDING) & (Job.due_at <= now))
    return [j.id for j in query.order_by(Job.id)]


def record_published(job_id: int, now: float) -> None:
    n = Job.update(publish=Publish.DONE).where(
        (Job.id == job_id) & (Job.publish == Publish.PENDING)).execute()
    if n:
        log(ACTOR, "job", job_id, None, None, now, "published")


def delay_publish(job_id: int, failures: int, until: float, reason: str) -> None:
    """A publish failed for the `failures`-th time in a row: try again at `until`."""
    Job.update(due_at=until, publish_failures=failures, last_error=reason[:4000]).where(
        (Job.id == job_id) & (Job.publish == Publish.PENDING)).execute()


def last_fingerprint(sut_id: int, look_back: int = 5) -> dict | None:
    """The hardware and software fingerprint the SUT's latest jobs recorded (`connect` step)."""
    for job in Job.select(Job.progress).where(Job.sut == sut_id).order_by(Job.id.desc()).limit(look_back):
        found = (job.progress or {}).get("fingerprint")
        if found:
            return found
    return None
