"""The allocator places each plan's jobs as its `sut.placement` says (every backend).

The controller one tick at a time over the real database, with fake SSH; a
job "runs" until the test finishes it, so the order in which SUTs come free
is the test's to choose.
"""

from __future__ import annotations

import pytest

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.core.states import JobState
from fastpath.store.models import Event, Job, Lease, Sut
from fastpath.store.queries import jobs
from tests.fakes import FakeConnections, InlineExecutor
from tests.integration.api_helpers import Api, declare

TUNING = Tuning(probe_interval=60, fresh=5, backoff_base=5, backoff_cap=40, ttl=1e6)


@pytest.fixture
def world(database, clock, tmp_path):
    api = Api(clock, tmp_path)
    declare(tmp_path, {"demo": 2}, clock(), reset="none", boot="none")
    api.user("alice", "exec,query")
    ssh = FakeConnections()
    ctl = Controller(name="c1", tuning=TUNING, clock=clock, connections=ssh, executor=InlineExecutor())
    assert ctl.lead()
    ctl.run_once()  # probes: both SUTs healthy
    return api, ssh, ctl


def submit(api, sessions: int, swprofiles=("A", "B"), placement: str | None = None) -> int:
    sut = {"sutclass": "demo", **({"placement": placement} if placement else {})}
    doc = {"sut": sut, "swprofiles": [{"name": n} for n in swprofiles],
           "benchmarks": [{"include": "testing/busyloop.yaml", "sessions": sessions}]}
    r = api.post("/plans", {"plan": doc}, who="alice")
    assert r.status_code == 201, r.json
    return r.json["plan"]["id"]


def names() -> dict[int, str]:
    return {s.id: s.name for s in Sut.select()}


def where(plan: int) -> dict[tuple[int, int], str | None]:
    """(session, swprofile) -> the SUT its job holds or held."""
    n = names()
    return {(j.session, j.swprofile): n.get(j.sut_id) for j in Job.select().where(Job.plan == plan)}


def holding(plan: int) -> list[Job]:
    return list(Job.select().where((Job.plan == plan) & Job.state.in_(["assigned", "running"]))
                .order_by(Job.id))


def finish(job: Job, clock) -> None:
    assert jobs.finish_job(job, JobState.COMPLETED, clock(), publish=False)


def test_spread_runs_each_swprofile_on_each_sut_as_equally_as_the_counts_allow(world, clock):
    api, ssh, ctl = world
    plan = submit(api, sessions=3)
    ctl.run_once()
    assert where(plan)[(1, 0)] == "demo-01" and where(plan)[(1, 1)] == "demo-02"
    while holding(plan):
        finish(holding(plan)[-1], clock)  # the later job finishes first each time
        clock.advance(1)
        ctl.run_once()
    placed = where(plan)
    assert None not in placed.values()
    for sw in (0, 1):  # 3 sessions over 2 SUTs: 2 on one, 1 on the other
        on = sorted(name for (_, p), name in placed.items() if p == sw)
        assert sorted(on.count(s) for s in ("demo-01", "demo-02")) == [1, 2], placed
    for k in (1, 2, 3):  # each session's swprofiles ran on different SUTs
        assert placed[(k, 0)] != placed[(k, 1)], placed
    # swapped over between sessions: the first swprofile is not always on the same SUT
    assert len({placed[(k, 0)] for k in (1, 2, 3)}) == 2


def test_spread_a_job_waits_for_its_sut_only_while_its_own_plan_holds_it(world, clock):
    api, ssh, ctl = world
    plan = submit(api, sessions=2)
    ctl.run_once()
    first, second = holding(plan)  # (1,A) on demo-01, (1,B) on demo-02
    finish(second, clock)
    ctl.run_once()
    # next in the queue is (2,B), meant for demo-01 which the plan still holds: it waits,
    # and (2,A), meant for demo-02, takes it
    assert where(plan)[(2, 1)] is None and where(plan)[(2, 0)] == "demo-02"
    finish(first, clock)
    ctl.run_once()
    assert where(plan)[(2, 1)] == "demo-01"


def test_spread_does_not_wait_for_a_sut_someone_else_holds(world, clock):
    api, ssh, ctl = world
    lease = api.post("/leases", {"sutclass": "demo"}, who="admin").json["lease"]["id"]
    ctl.run_once()
    ctl.run_once()
    got = Lease.get_by_id(lease)
    assert got.state == "acquired"
    leased = got.sut.name
    plan = submit(api, sessions=2)
    ctl.run_once()
    other = ({"demo-01", "demo-02"} - {leased}).pop()
    while holding(plan):  # the whole plan runs on the SUT nobody holds, one job at a time
        assert [where(plan)[(j.session, j.swprofile)] for j in holding(plan)] == [other]
        finish(holding(plan)[0], clock)
        ctl.run_once()
    assert set(where(plan).values()) == {other}


def test_same_runs_every_job_on_the_sut_of_the_first(world, clock):
    api, ssh, ctl = world
    plan = submit(api, sessions=2, placement="same")
    ctl.run_once()
    assert len(holding(plan)) == 1  # the others wait for that SUT, although demo-02 is free
    while holding(plan):
        finish(holding(plan)[0], clock)
        ctl.run_once()
    assert set(where(plan).values()) == {"demo-01"}
    assert not any("placement" in (j.progress or {}) for j in Job.select())


def test_same_falls_back_when_its_sut_becomes_unhealthy_and_records_it(world, clock):
    api, ssh, ctl = world
    plan = submit(api, sessions=2, placement="same")
    ctl.run_once()
    finish(holding(plan)[0], clock)
    ctl.run_once()
    finish(holding(plan)[0], clock)  # session 1 ran on demo-01; then demo-01 stops answering
    ssh.down.add("demo-01")
    clock.advance(61)  # its idle re-check finds it down
    ctl.run_once()
    assert Sut.get(Sut.name == "demo-01").health == "unhealthy"
    while holding(plan):
        finish(holding(plan)[0], clock)
        ctl.run_once()
    placed = where(plan)
    assert [placed[(1, p)] for p in (0, 1)] == ["demo-01", "demo-01"]
    assert [placed[(2, p)] for p in (0, 1)] == ["demo-02", "demo-02"]  # nothing waited for it
    note = "placement same fell back: demo-01 is unhealthy; ran on demo-02"
    late = Job.select().where((Job.plan == plan) & (Job.session == 2))
    assert all(j.progress["placement"] == note for j in late)
    assert Event.select().where((Event.kind == "job") & Event.detail.contains(note)).count() == 2


def test_two_plans_are_placed_each_on_its_own(world, clock):
    api, ssh, ctl = world
    one, two = submit(api, sessions=1), submit(api, sessions=1)
    for _ in range(4):
        ctl.run_once()
        for job in holding(one) + holding(two):
            finish(job, clock)
    for plan in (one, two):  # each plan on both SUTs, its swprofiles on different ones
        assert sorted(where(plan).values()) == ["demo-01", "demo-02"]
