"""The job-step machine driven end to end against a fake SUT, on a real database.

The controller runs one pass at a time with an injected clock; the steps act
on `tests.fakes.FakeSut` instead of SSH. Crashes are injected at every named
failpoint (a `BaseException`, as a SIGKILL would end the step: nothing of ours
catches it), then the job resumes; every step is also run twice in a row.
Either way the outcome must equal that of an undisturbed run.
"""

from __future__ import annotations

import pytest

from fastpath.control import failpoints
from fastpath.control.controller import Controller
from fastpath.control.runner import JobRunner
from fastpath.control.steps import Steps
from fastpath.control.tuning import Tuning
from fastpath.store.files import Storage
from fastpath.store.models import Event, Job
from fastpath.store.queries.jobs import MAX_ATTEMPTS
from tests.fakes import FakeConnections, FakeRemotes, FakeSut, InlineExecutor
from tests.integration.api_helpers import Api, declare, submit

TUNING = Tuning(probe_interval=3600, fresh=3600, ttl=600, job_poll_min=1, boot_poll=1,
                retry_base=10, retry_cap=40)
BOOTS = {"none": {}, "kexec": {}, "power_cycle": {"power_cycle": ["true"]}}
POINTS = ["before-connect", "after-connect", "before-stage", "after-stage", "before-boot",
          "boot-recorded", "after-boot", "before-wait_boot", "after-wait_boot", "before-prepare",
          "after-prepare", "before-run", "after-run", "before-collect", "after-collect",
          "before-cleanup", "after-cleanup"]


class Crash(BaseException):
    """The process died here."""


class World:
    def __init__(self, clock, tmp_path, boot: str, api: Api | None = None) -> None:
        self.clock, self.sut = clock, FakeSut()
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.api = api or Api(clock, tmp_path / "storage")
        declare(tmp_path, {"lab": 1}, clock(), boot=boot, boot_timeout="60s", **BOOTS[boot])
        self.ctl = Controller(name="c1", tuning=TUNING, clock=clock, connections=FakeConnections(),
                              executor=InlineExecutor())
        steps = Steps(FakeRemotes(), Storage(tmp_path / "storage"), tuning=TUNING, clock=clock,
                      host={"machine_id": "the-scheduler", "boot_id": "its-boot"},
                      sut_facts=self.sut, sut_driver=self.sut, sut_boot=self.sut)
        self.runner = JobRunner(steps, self.ctl.fence, publish_to=None, tuning=TUNING, clock=clock)
        self.ctl.register(self.runner)
        self.passes = 0
        kernel = tmp_path / "Image"
        kernel.write_bytes(b"k")
        sw = {"name": "x", "kernel": "Image"} if boot != "none" else {"name": "x"}
        plan = {"sut": {"sutclass": "lab"}, "swprofiles": [sw], "benchmarks": [
            {"suite": "testing", "name": "busyloop", "type": "container",
             "image": "localhost/fastpath-bench-busyloop:1", "params": {}}],
                "defaults": {"benchmark": {"warmups": 0, "repeats": 2}}}
        r = submit(self.api, plan, {"swprofiles[0].kernel": kernel} if boot != "none" else {})
        assert r.status_code == 201, r.json
        self.plan_id = r.json["plan"]["id"]

    def job(self) -> Job:
        return Job.get(Job.plan == self.plan_id)

    def tick(self) -> None:
        """One pass of the real loop, then the clock moves on by a second."""
        assert self.ctl.lead()
        self.passes += 1
        self.ctl.run_once()
        self.clock.advance(1)

    def until_final(self, limit: int = 60) -> Job:
        for _ in range(limit):
            try:
                self.tick()
            except Crash:
                pass  # the process died; the next pass is its restart
            if self.job().state in ("completed", "failed"):
                return self.job()
        raise AssertionError(f"job not final after {limit} passes: {self.job().step}")


def outcome(world: World) -> tuple:
    job = world.job()
    return (job.state, job.results, job.errors, job.attempts, world.sut.n_boots,
            world.sut.dirs, bool(job.session_id) and job.session_id in world.sut.cmdline)


@pytest.mark.parametrize("boot", list(BOOTS))
def test_a_whole_job_through_the_step_machine(sqlite_database, clock, tmp_path, boot):
    world = World(clock, tmp_path, boot)
    job = world.until_final()
    assert job.state == "completed" and job.step == "done" and job.results == 2 and job.errors == 0
    assert world.sut.n_boots == (0 if boot == "none" else 1)
    assert world.sut.dirs == {}  # cleaned up
    moves = [(e.old, e.new) for e in Event.select().where(Event.kind == "job").order_by(Event.id)]
    assert moves == [("queued", "assigned"), ("assigned", "running"), ("running", "completed")]


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_at_any_recorded_step_resumes_to_the_same_outcome(sqlite_database, clock, tmp_path,
                                                                  point, monkeypatch):
    reference = World(clock, tmp_path / "ref", "kexec")
    reference.until_final()
    expected = outcome(reference)
    Job.delete().execute()

    world = World(clock, tmp_path / "crash", "kexec", reference.api)
    crashed = []

    def reach(name: str) -> None:
        if name == point and not crashed:
            crashed.append(name)
            raise Crash(name)

    monkeypatch.setattr(failpoints, "reach", reach)
    world.until_final()
    assert crashed == [point]
    assert outcome(world)[:5] == expected[:5] and outcome(world)[5] == {}
    assert outcome(world)[6]  # the session's mark is on the one kernel it booted


def test_every_step_run_twice_gives_the_same_outcome(sqlite_database, clock, tmp_path):
    reference = World(clock, tmp_path / "ref", "kexec")
    reference.until_final()
    expected = outcome(reference)
    Job.delete().execute()

    world = World(clock, tmp_path / "twice", "kexec", reference.api)
    table = world.runner.steps.table

    def twice(step):
        def run(ctx):
            step(ctx)  # acted, then died before recording: the step runs again
            return step(ctx)
        return run

    world.runner.steps.table = {name: twice(step) for name, step in table.items()}
    world.until_final()
    assert outcome(world) == expected


def test_an_unexpected_error_is_retried_with_backoff_then_fails_the_job(sqlite_database, clock,
                                                                        tmp_path):
    world = World(clock, tmp_path, "none")
    world.sut.fail["prepare"] = RuntimeError("corrupt modules archive")
    attempts_seen = []
    for _ in range(200):
        world.tick()
        job = world.job()
        if not attempts_seen or attempts_seen[-1] != job.attempts:
            attempts_seen.append(job.attempts)
        if job.state == "failed":
            break
    job = world.job()
    assert job.state == "failed" and job.attempts == MAX_ATTEMPTS
    assert "RuntimeError: corrupt modules archive" in job.last_error
    assert "unexpected error in step prepare" in job.last_error
    assert world.sut.calls.count("prepare") == MAX_ATTEMPTS  # once per attempt: no hot loop
    assert attempts_seen == list(range(1, MAX_ATTEMPTS + 1))
    # the SUT is not blamed for a fault of ours
    from fastpath.store.models import Sut

    assert Sut.get().health == "healthy"


def test_a_requeued_job_waits_out_its_backoff(sqlite_database, clock, tmp_path):
    world = World(clock, tmp_path, "none")
    world.sut.fail["prepare"] = RuntimeError("boom")
    while world.sut.calls.count("prepare") < 1:
        world.tick()
    job = world.job()
    assert job.state == "queued" and job.due_at == pytest.approx(clock() - 1 + TUNING.retry_base)
    for _ in range(20):  # the clock stands still: no pass may retry it
        assert world.ctl.lead()
        world.ctl.run_once()
    assert world.sut.calls.count("prepare") == 1
    clock.advance(TUNING.retry_base)
    world.tick()
    world.tick()
    assert world.sut.calls.count("prepare") == 2


@pytest.mark.parametrize("model,state,new", [
    ("Lease", "released", "acquired"), ("Plan", "completed", "running"),
    ("Job", "completed", "queued"), ("Sut", "retired", "healthy")])
def test_transition_refuses_an_illegal_move_for_every_record_type(sqlite_database, clock, tmp_path,
                                                                  model, state, new):
    from fastpath.core import states
    from fastpath.store import models
    from fastpath.store.queries.base import transition

    World(clock, tmp_path, "none")  # a plan, a job and a SUT
    table = getattr(models, model)
    field = "health" if model == "Sut" else "state"
    if model == "Lease":
        lease = models.Lease.create(user=models.User.get().id, sutclass=models.SutClass.get().id,
                                    state=state, priority=5, queued_at=clock())
        record = lease.id
    else:
        record = table.get().id
        table.update({getattr(table, field): state}).execute()
    enum = {"Lease": states.LeaseState, "Plan": states.PlanState, "Job": states.JobState,
            "Sut": states.SutState}[model]
    with pytest.raises(ValueError, match="is not a transition"):
        transition(table, record, enum(state), enum(new), actor="t", now=clock(), field=field)
    assert getattr(table.get_by_id(record), field) == state  # nothing moved


def test_the_publishers_backoff_survives_a_restart(sqlite_database, clock, tmp_path):
    from fastpath.control.publisher import Publisher

    world = World(clock, tmp_path, "none")
    world.runner.publish_to = "sqlite:///nowhere.db"
    job = world.until_final()
    assert job.publish == "pending"
    opened = []

    def broken(url, create):
        opened.append(url)
        raise RuntimeError("the store's disk is full")

    def publisher():  # a new one per controller start: it remembers nothing itself
        return Publisher(Storage(tmp_path / "storage"), "sqlite:///nowhere.db", world.ctl.fence,
                         tuning=TUNING, clock=clock, open_store=broken)

    delays = []
    for _ in range(3):
        publisher().run(job.id)
        job = Job.get_by_id(job.id)
        delays.append(job.due_at - clock())
        assert publisher().due(clock()) == []  # not due again before its backoff
        clock.advance(job.due_at - clock())
    assert delays == [TUNING.publish_base, 2 * TUNING.publish_base, 4 * TUNING.publish_base]
    assert job.publish_failures == 3 and "RuntimeError: the store's disk is full" in job.last_error
    assert len(opened) == 3


def test_steps_due_at_once_run_in_one_call_and_a_poll_due_soon_sets_the_alarm(sqlite_database, clock,
                                                                              tmp_path):
    from dataclasses import replace

    world = World(clock, tmp_path, "none")
    soon = replace(TUNING, job_poll_min=0.25)
    world.runner.tuning = world.runner.steps.tuning = soon
    alarms: list[float] = []
    world.runner.alarm = alarms.append
    calls = []
    run = world.runner.run

    def counted(job_id):
        calls.append(world.job().step)
        run(job_id)

    world.runner.run = counted  # type: ignore[method-assign]
    while world.job().step != "run":
        world.tick()
    assert calls == ["connect"]  # connect, then prepare and the driver's start, in one call
    assert world.sut.calls == ["boot_facts", "fingerprint", "clear_stale", "check_runtime", "prepare",
                               "start"]
    assert alarms == [pytest.approx(world.job().due_at)]  # the first poll, before the next tick
    # the controller's loop passes when an alarm is due, once
    world.ctl.wake_at(clock() + 0.25)
    assert not world.ctl._alarm_rang()
    clock.advance(0.3)
    assert world.ctl._alarm_rang() and not world.ctl._alarm_rang()
