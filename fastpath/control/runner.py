"""The job-step machine: runs a job's recorded step and records what comes next.

The controller calls `JobRunner.run(job_id)` whenever the job is due. Each
call performs the step recorded on the job (`job.step`, see
`fastpath.control.steps`) and records its outcome before acting on it, so a
controller killed at any instant resumes at the right step. A next step due
at once runs in the same call (read again from the database, as a new call
would); one due shortly sets the controller's alarm, so that it is not left
waiting for the next pass on the timer.

Failures are classified by who is to blame (DESIGN §3), with one error model
(`fastpath.errors`): a `PermanentError` (a fault of the plan) fails the job;
a `BootFailure` returns the SUT to its own kernel and queues the job again,
on another SUT when the class has one; an `SshError` marks the SUT unhealthy
and queues the job again; any other exception is a fault of ours, which
queues the job again without blaming the SUT. Every re-queue counts an
attempt and waits out a backoff, so nothing is retried in a hot loop, and
the job fails with the last reason after the last attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from fastpath.control import failpoints, metrics
from fastpath.control.steps import Ctx, Done, Next, Remotes, Steps
from fastpath.control.tuning import Tuning
from fastpath.core import backoff
from fastpath.core.states import HOLDING_JOB, JobState, JobStep, SutState
from fastpath.errors import BootFailure, LostLeadership, PermanentError
from fastpath.store.files import Storage
from fastpath.store.queries import inventory, jobs, plans, suts
from fastpath.sut.remote import SshError

if TYPE_CHECKING:
    from fastpath.control.controller import Controller

log = logging.getLogger(__name__)


class JobRunner:
    kind = "job"

    def __init__(self, steps: Steps, fence: Callable[[], AbstractContextManager], *,
                 publish_to: str | None, tuning: Tuning = Tuning(),
                 clock: Callable[[], float] = time.time,
                 alarm: Callable[[float], None] | None = None) -> None:
        self.steps, self.fence, self.publish_to = steps, fence, publish_to
        self.tuning, self.clock, self.alarm = tuning, clock, alarm

    @classmethod
    def of(cls, controller: Controller, storage: Storage, *, publish_to: str | None) -> JobRunner:
        """The runner of `controller`'s jobs, over its SSH connections, timings and clock."""
        steps = Steps(Remotes(controller.connections), storage, tuning=controller.tuning,
                      clock=controller.clock)
        return cls(steps, controller.fence, publish_to=publish_to, tuning=controller.tuning,
                   clock=controller.clock, alarm=controller.wake_at)

    def due(self, now: float) -> list[int]:
        return jobs.jobs_due(now)

    def run(self, job_id: int) -> None:
        for _ in range(len(self.steps.table) + 1):  # a bound: steps due at once, in a row
            after = self._step(job_id)
            if after is None:
                return
            if after > 0:
                if self.alarm is not None and after < self.tuning.tick:
                    self.alarm(self.clock() + after)
                return

    def _step(self, job_id: int) -> float | None:
        """Run the job's recorded step; in how long the step it recorded next is due, if any."""
        job = jobs.get_job(job_id)
        if job.state not in HOLDING_JOB or job.step not in self.steps.table or job.sut_id is None:
            return None
        ctx = Ctx(job, plans.get_plan(job.plan_id), suts.get_sut(job.sut_id))
        failpoints.reach(f"before-{job.step}")
        try:
            outcome: Next | Done | None = self.steps.table[JobStep(job.step)](ctx)
            while isinstance(outcome, Next):
                if not self._record(ctx, outcome):
                    return None
                if outcome.then is None:
                    return outcome.after
                recorded, outcome = outcome, outcome.then()
                if outcome is None:
                    return recorded.after
            if isinstance(outcome, Done):
                self._finish(ctx, outcome)
        except LostLeadership:
            raise
        except PermanentError as exc:
            log.warning("job %s failed: %s", job.id, exc.message)
            with self.fence():
                jobs.finish_job(job, JobState.FAILED, self.clock(), publish=False, reason=exc.message)
        except BootFailure as exc:
            log.warning("job %s: boot failure on %s: %s", job.id, ctx.sut.name, exc.message)
            self.steps.return_to_own_kernel(ctx)
            others = [s.id for s in inventory.class_suts(ctx.sut.sutclass_id)
                      if s.id != ctx.sut.id and s.health != SutState.MAINTENANCE]
            self._requeue(ctx, f"boot failure: {exc.message}", blame_sut=True,
                          avoid=[ctx.sut.id] if others else None, boot_failure=True)
        except SshError as exc:
            log.warning("job %s: infrastructure failure on %s: %s", job.id, ctx.sut.name, exc.message)
            self.steps.remotes.drop(ctx.sut.name)
            self._requeue(ctx, exc.message, blame_sut=True, delay=exc.delay)
        except Exception as exc:  # a fault of ours: retried with backoff, never in a hot loop
            log.exception("job %s: unexpected error in step %s", job.id, job.step)
            self._requeue(ctx, f"unexpected error in step {job.step}: {type(exc).__name__}: {exc}",
                          blame_sut=False)
        return None

    def _record(self, ctx: Ctx, outcome: Next) -> bool:
        """Record the next step (and progress) before acting on it; False if the job moved on."""
        moved = outcome.step != ctx.job.step
        if moved:
            failpoints.reach(f"after-{ctx.job.step}")
        merged = {**ctx.progress, **outcome.progress}
        fields = {"session_id": merged["session_id"]} if merged.get("session_id") else {}
        with self.fence() as now:
            if outcome.sut_facts:
                suts.set_facts(ctx.sut.id, outcome.sut_facts)
            if ctx.job.state == JobState.ASSIGNED:  # past connect: the job has its SUT
                jobs.start_running(ctx.job, now)
            recorded = jobs.record_step(ctx.job, outcome.step, now, progress=merged,
                                        due_at=now + outcome.after, **fields)
        if recorded and moved:  # the step before it has ended
            metrics.steps_ended(ctx.progress.get("steps", [])[-2:])
        return recorded

    def _finish(self, ctx: Ctx, done: Done) -> None:
        with self.fence():
            if done.sut_error is None:
                suts.record_ok(ctx.sut.id, self.clock())
            else:  # the results are safe; the SUT is suspect
                self._sut_failed(ctx, done.sut_error)
        failpoints.reach("after-cleanup")
        now = self.clock()
        with self.fence():
            finished = jobs.finish_job(ctx.job, JobState.COMPLETED, now,
                                       publish=bool(ctx.plan.publish and self.publish_to),
                                       results=done.results, errors=done.errors)
        if finished:  # its last step ended with it
            metrics.steps_ended(ctx.progress.get("steps", [])[-1:], end=now)

    def _requeue(self, ctx: Ctx, reason: str, *, blame_sut: bool, delay: float | None = None,
                 avoid: list[int] | None = None, boot_failure: bool = False) -> None:
        t = self.tuning
        wait = delay if delay is not None else backoff.delay(ctx.job.attempts, t.retry_base, t.retry_cap)
        with self.fence():
            if blame_sut:
                self._sut_failed(ctx, reason)
            jobs.requeue_job(ctx.job, f"{ctx.sut.name}: {reason}", self.clock(), retry_at=self.clock() + wait,
                             avoid=avoid, boot_failure=boot_failure)

    def _sut_failed(self, ctx: Ctx, reason: str) -> None:
        suts.record_failure(ctx.sut.id, self.clock(), reason, base=self.tuning.backoff_base,
                            cap=self.tuning.backoff_cap)
