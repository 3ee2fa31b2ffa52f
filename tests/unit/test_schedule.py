"""The allocator: priority, then fairness, then age; the input order never matters."""

from __future__ import annotations

import itertools
import random

import pytest

from fastpath.core.schedule import Demand, FreeSut, queue_order, schedule


def D(kind, id, user, priority=5, at=0.0, avoid=()):
    return Demand(kind, id, user, priority, at, frozenset(avoid))


def served(free, demand, held=None):
    return [(a.demand.kind, a.demand.id, a.sut.id) for a in schedule(free, demand, held or {})]


CASES = [
    pytest.param([FreeSut(1)], [D("job", 1, 1, at=2), D("lease", 1, 2, at=1)], {},
                 [("lease", 1, 1)], id="oldest first"),
    pytest.param([FreeSut(1)], [D("job", 1, 1, priority=4, at=1), D("lease", 1, 2, priority=6, at=9)],
                 {}, [("lease", 1, 1)], id="priority beats age"),
    pytest.param([FreeSut(1)], [D("job", 1, 1, at=1), D("lease", 1, 2, at=9)], {1: 3},
                 [("lease", 1, 1)], id="fairness beats age at equal priority"),
    pytest.param([FreeSut(1)], [D("job", 1, 1, priority=6, at=1), D("lease", 1, 2, at=0)], {1: 3},
                 [("job", 1, 1)], id="priority beats fairness"),
    pytest.param([FreeSut(1), FreeSut(2), FreeSut(3)],
                 [D("job", i, 1, at=i) for i in range(1, 5)] + [D("lease", 9, 2, at=10)], {},
                 [("job", 1, 1), ("lease", 9, 2), ("job", 2, 3)],
                 id="a big plan shares SUTs with a person waiting"),
    pytest.param([FreeSut(1), FreeSut(2)], [D("lease", 1, 1), D("lease", 2, 2)], {},
                 [("lease", 1, 1), ("lease", 2, 2)], id="ties broken by id"),
    pytest.param([FreeSut(1), FreeSut(2, fresh=True)], [D("lease", 1, 1)], {},
                 [("lease", 1, 2)], id="a lease prefers a SUT that answered just now"),
    pytest.param([FreeSut(1), FreeSut(2)], [D("job", 1, 1, avoid={1})], {},
                 [("job", 1, 2)], id="a job retried after a failed boot avoids that SUT"),
    pytest.param([FreeSut(1)], [D("job", 1, 1, avoid={1}, at=0), D("job", 2, 2, at=1)], {},
                 [("job", 2, 1)], id="an avoided SUT goes to the next in line"),
    pytest.param([], [D("job", 1, 1)], {}, [], id="nothing free"),
    pytest.param([FreeSut(1)], [], {}, [], id="nothing wanted"),
]


@pytest.mark.parametrize("free, demand, held, expected", CASES)
def test_schedule_table(free, demand, held, expected):
    assert served(free, demand, held) == expected


@pytest.mark.parametrize("free, demand, held, expected", CASES)
def test_every_permutation_gives_the_same_answer(free, demand, held, expected):
    for suts in itertools.permutations(free):
        for wanted in itertools.permutations(demand):
            assert served(list(suts), list(wanted), held) == expected


def test_large_random_queue_is_order_independent():
    rng = random.Random(7)
    demand = [D(rng.choice(["job", "lease"]), i, rng.randint(1, 6), rng.randint(0, 10),
                rng.random()) for i in range(300)]
    free = [FreeSut(i, fresh=rng.random() < 0.3) for i in range(40)]
    held = {u: rng.randint(0, 3) for u in range(1, 7)}
    expected = served(free, demand, held)
    for _ in range(5):
        rng.shuffle(demand)
        rng.shuffle(free)
        assert served(free, demand, held) == expected
    assert len(expected) == 40
    assert len({sut for _, _, sut in expected}) == 40  # no SUT handed out twice


def test_fairness_counts_what_this_pass_hands_out():
    # user 1 queued three jobs first; user 2 one lease later: user 2 still gets the second SUT
    demand = [D("job", 1, 1, at=0), D("job", 2, 1, at=1), D("job", 3, 1, at=2), D("lease", 4, 2, at=3)]
    assert served([FreeSut(1), FreeSut(2)], demand) == [("job", 1, 1), ("lease", 4, 2)]


def test_queue_order_is_the_order_of_service():
    demand = [D("job", 1, 1, at=0), D("lease", 2, 2, at=5, priority=7), D("lease", 3, 3, at=1)]
    assert [d.id for d in queue_order(demand, {})] == [2, 1, 3]


def test_queue_order_is_what_schedule_serves_given_enough_suts():
    demand = [Demand("job" if i % 3 else "lease", i, i % 4, 5 + i % 2, float(i % 7)) for i in range(60)]
    held = {0: 2, 1: 0, 3: 1}
    served = [a.demand for a in schedule([FreeSut(-i) for i in range(1, 61)], demand, held)]
    assert queue_order(demand, held) == served


# --- placement that cancels SUT differences ----------------------------------------------------


from fastpath.core.schedule import placement  # noqa: E402


def jobs_of(swprofiles: int, sessions: int) -> list[tuple[int, int]]:
    return [(k, p) for k in range(1, sessions + 1) for p in range(swprofiles)]


def counts(placed: dict) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = {}
    for (_, sw), sut in placed.items():
        out[(sw, sut)] = out.get((sw, sut), 0) + 1
    return out


@pytest.mark.parametrize("swprofiles, sessions, suts, expected", [
    # 2 swprofiles x 3 sessions over 2 SUTs: 2 and 1 each way, each session on both SUTs
    (2, 3, [1, 2], {(1, 0): 1, (1, 1): 2, (2, 0): 2, (2, 1): 1, (3, 0): 1, (3, 1): 2}),
    # 3 swprofiles x 2 sessions over 2 SUTs
    (3, 2, [1, 2], {(1, 0): 1, (1, 1): 2, (1, 2): 1, (2, 0): 2, (2, 1): 1, (2, 2): 2}),
    # one SUT: everything there
    (2, 3, [7], {(k, p): 7 for k in (1, 2, 3) for p in (0, 1)}),
    # 2 swprofiles x 4 sessions over 2 SUTs: exactly 2 each way
    (2, 4, [1, 2], {(1, 0): 1, (1, 1): 2, (2, 0): 2, (2, 1): 1, (3, 0): 1, (3, 1): 2, (4, 0): 2,
                    (4, 1): 1}),
])
def test_placement_tables(swprofiles, sessions, suts, expected):
    placed = placement(jobs_of(swprofiles, sessions), suts)
    assert placed == expected
    by = counts(placed)
    for sw in range(swprofiles):  # as balanced as the counts allow
        got = [by.get((sw, s), 0) for s in suts]
        assert max(got) - min(got) <= 1


@pytest.mark.parametrize("swprofiles, sessions, suts", [(2, 3, [1, 2]), (3, 2, [1, 2, 3]), (2, 2, [4, 9])])
def test_every_permutation_of_the_input_gives_the_same_placement(swprofiles, sessions, suts):
    jobs = jobs_of(swprofiles, sessions)
    want = placement(jobs, suts)
    for order in itertools.permutations(jobs):
        for sut_order in itertools.permutations(suts):
            assert placement(list(order), list(sut_order)) == want


def test_an_unhealthy_sut_mid_plan_sends_the_rest_elsewhere():
    jobs = jobs_of(2, 4)
    first = placement(jobs, [1, 2])
    done = {j: first[j] for j in jobs if j[0] <= 2}  # sessions 1 and 2 ran; then SUT 2 fails
    rest = placement(jobs, [1], done)
    assert set(rest) == {j for j in jobs if j[0] > 2} and set(rest.values()) == {1}
    assert placement(jobs, [], done) == {}  # no healthy SUT: nothing placed, nothing waits on one
    back = placement(jobs, [1, 2, 3], done)  # a third SUT joined: it takes the next jobs first
    assert back[(3, 0)] == 3 and back[(3, 1)] == 3
    by = counts({**done, **back})
    for sw in (0, 1):
        got = [by.get((sw, s), 0) for s in (1, 2, 3)]
        assert max(got) - min(got) <= 1, by


# --- the allocator's placement decision: placing() and placed() --------------------------------


from fastpath.core.schedule import Place, PlanJob, placed, placing  # noqa: E402


def plan_jobs(swprofiles: int, sessions: int) -> list[PlanJob]:
    """A plan's jobs as `split` queues them: A B, then B A, ... (ids in queue order)."""
    order = list(range(swprofiles))
    specs = [(k, p) for k in range(1, sessions + 1) for p in (order if k % 2 else order[::-1])]
    return [PlanJob(i, k, p, "queued") for i, (k, p) in enumerate(specs, start=1)]


def simulate(mode, jobs, suts, *, usable_after=None, finish=min, others=None):
    """Run one plan to the end with the real allocator: each turn, place and schedule, then one
    holding job finishes (`finish` picks which of the holding job ids). `usable_after`: turn ->
    the SUTs usable from then on; `others`: SUT -> turns a lease holds it from the start.
    Returns job id -> (sut, fell back from)."""
    jobs = {j.id: j for j in jobs}
    usable, others = list(suts), dict(others or {})
    ran: dict[int, tuple[int, int | None]] = {}
    for turn in range(1, 200):
        usable = (usable_after or {}).get(turn, usable)
        held = {j.sut for j in jobs.values() if j.state == "holding"} | set(others)
        free = [s for s in usable if s not in held]
        places = placing(mode, list(jobs.values()), usable, free)
        demand = [Demand("job", j.id, 1, 5, 0.0, j.avoid) for j in jobs.values() if j.state == "queued"]
        for a in schedule([FreeSut(s) for s in free], placed(demand, places), {}):
            j = jobs[a.demand.id]
            jobs[j.id] = PlanJob(j.id, j.session, j.swprofile, "holding", a.sut.id, float(turn))
            ran[j.id] = (a.sut.id, places[j.id].fell_back_from)
        others = {s: n - 1 for s, n in others.items() if n > 1}
        holding = [j.id for j in jobs.values() if j.state == "holding"]
        if holding:
            done = jobs[finish(holding)]
            jobs[done.id] = PlanJob(done.id, done.session, done.swprofile, "done", done.sut,
                                    done.assigned_at)
        elif all(j.state == "done" for j in jobs.values()):
            return ran
        elif not others:
            raise AssertionError(f"stuck: nothing runs, nothing holds, and {places} wait")
    raise AssertionError("the plan never finished")


def balance(ran, jobs) -> dict[tuple[int, int], int]:
    spec = {j.id: j for j in jobs}
    out: dict[tuple[int, int], int] = {}
    for id, (sut, _) in ran.items():
        out[(spec[id].swprofile, sut)] = out.get((spec[id].swprofile, sut), 0) + 1
    return out


@pytest.mark.parametrize("swprofiles, sessions, suts, finish, expected", [
    # 2 swprofiles x 3 sessions over 2 SUTs: each swprofile 2 and 1 on each, sessions on both SUTs
    (2, 3, [1, 2], min, {(0, 1): 2, (0, 2): 1, (1, 1): 1, (1, 2): 2}),
    (2, 3, [1, 2], max, {(0, 1): 2, (0, 2): 1, (1, 1): 1, (1, 2): 2}),  # other finishing order
    # 3 swprofiles x 2 sessions over 2 SUTs: each swprofile once on each
    (3, 2, [1, 2], min, {(0, 1): 1, (0, 2): 1, (1, 1): 1, (1, 2): 1, (2, 1): 1, (2, 2): 1}),
    # one SUT: everything there
    (2, 3, [5], min, {(0, 5): 3, (1, 5): 3}),
])
def test_spread_placement_tables(swprofiles, sessions, suts, finish, expected):
    jobs = plan_jobs(swprofiles, sessions)
    ran = simulate("spread", jobs, suts, finish=finish)
    assert balance(ran, jobs) == expected
    assert all(back is None for _, back in ran.values())


def test_spread_the_first_pass_uses_every_sut_and_spreads_each_session():
    jobs = plan_jobs(2, 3)  # ids: 1 (1,A) 2 (1,B) 3 (2,B) 4 (2,A) 5 (3,A) 6 (3,B)
    places = placing("spread", jobs, [1, 2], [1, 2])
    # the first job meant for each SUT may start; the later ones wait their turn
    assert places == {1: Place(frozenset({1})), 2: Place(frozenset({2})), 3: Place(frozenset()),
                      4: Place(frozenset()), 5: Place(frozenset()), 6: Place(frozenset())}
    got = schedule([FreeSut(1), FreeSut(2)],
                   placed([Demand("job", j.id, 1, 5, 0.0) for j in jobs], places), {})
    assert [(a.demand.id, a.sut.id) for a in got] == [(1, 1), (2, 2)]


def test_spread_a_job_waits_only_for_a_sut_its_own_plan_holds():
    jobs = plan_jobs(2, 2)
    running = [PlanJob(1, 1, 0, "holding", 1, 1.0), PlanJob(2, 1, 1, "holding", 2, 1.0), *jobs[2:]]
    # job 3 (2,B) is meant for SUT 1, job 4 (2,A) for SUT 2: SUT 2 frees first, job 3 waits
    places = placing("spread", [*running[:1], PlanJob(2, 1, 1, "done", 2, 1.0), *jobs[2:]], [1, 2], [2])
    assert places == {3: Place(frozenset()), 4: Place(frozenset({2}))}
    # a lease holds SUT 1 instead: job 3 does not wait for it, it may take any SUT
    places = placing("spread", [PlanJob(1, 1, 0, "done", 1, 1.0), PlanJob(2, 1, 1, "done", 2, 1.0),
                                *jobs[2:]], [1, 2], [2])
    assert places[3] == Place(None)


def test_spread_a_lease_on_the_intended_sut_does_not_hold_the_plan_up():
    jobs = plan_jobs(2, 2)
    ran = simulate("spread", jobs, [1, 2], others={1: 3})  # a person holds SUT 1 for 3 turns
    assert {sut for sut, _ in ran.values()} >= {2}
    assert len(ran) == 4


def test_spread_an_unhealthy_sut_mid_plan_sends_the_rest_to_the_others():
    jobs = plan_jobs(2, 4)
    ran = simulate("spread", jobs, [1, 2], usable_after={3: [1]})  # SUT 2 fails at turn 3
    late = [id for id, (_, _) in ran.items() if id > 4]
    assert {ran[id][0] for id in late} == {1}
    assert len(ran) == 8  # nothing waited for SUT 2


def test_same_places_every_job_on_the_sut_of_the_first():
    jobs = plan_jobs(2, 3)
    first = placing("same", jobs, [1, 2], [1, 2])
    assert first[1] == Place(None) and all(first[i] == Place(frozenset()) for i in range(2, 7))
    ran = simulate("same", jobs, [1, 2])
    assert {sut for sut, _ in ran.values()} == {1}


def test_same_falls_back_when_its_sut_becomes_unhealthy_and_says_so():
    jobs = plan_jobs(2, 3)
    ran = simulate("same", jobs, [1, 2], usable_after={3: [2]})
    assert [ran[i] for i in (1, 2)] == [(1, None), (1, None)]
    assert all(ran[i] == (2, 1) for i in range(3, 7))  # on SUT 2, fell back from SUT 1


def test_same_falls_back_for_a_job_that_cannot_boot_there():
    jobs = [PlanJob(1, 1, 0, "done", 1, 1.0), PlanJob(2, 1, 1, "queued", avoid=frozenset({1}))]
    assert placing("same", jobs, [1, 2], [1, 2]) == {2: Place(None, fell_back_from=1)}


def test_placing_a_long_plan_places_only_until_every_sut_has_a_job_and_agrees_with_the_full_one():
    jobs = plan_jobs(3, 40)
    done = [PlanJob(j.id, j.session, j.swprofile, "done", 1 + j.id % 3, float(j.id)) for j in jobs[:7]]
    state = done + jobs[7:]
    places = placing("spread", state, [1, 2, 3, 4], [1, 2, 3, 4])
    going = {id: p.only for id, p in places.items() if p.only}
    assert {s for only in going.values() for s in only} == {1, 2, 3, 4}  # a job for every SUT
    assert len(going) < 12 and len(places) == len(jobs) - 7  # the rest wait their turn
    full = placement([(j.session, j.swprofile) for j in jobs], [1, 2, 3, 4],
                     {(j.session, j.swprofile): j.sut for j in done})
    spec = {j.id: (j.session, j.swprofile) for j in jobs}
    assert all(full[spec[id]] in only for id, only in going.items())


def test_a_plan_with_nothing_queued_places_nothing():
    assert placing("spread", [PlanJob(1, 1, 0, "done", 1, 1.0)], [1], [1]) == {}
    assert placing("same", [], [1], [1]) == {}


def test_no_usable_sut_leaves_every_job_free_to_go_anywhere_later():
    assert placing("spread", plan_jobs(2, 1), [], []) == {1: Place(None), 2: Place(None)}


STATES = [
    [PlanJob(1, 1, 0, "done", 1, 1.0), PlanJob(2, 1, 1, "holding", 2, 1.0),
     PlanJob(3, 2, 1, "queued"), PlanJob(4, 2, 0, "queued"), PlanJob(5, 3, 0, "queued")],
    [PlanJob(1, 1, 0, "done", 3, 1.0), PlanJob(2, 1, 1, "done", 3, 2.0), PlanJob(3, 2, 1, "queued"),
     PlanJob(4, 2, 0, "queued", avoid=frozenset({2}))],
    plan_jobs(3, 2),
]


@pytest.mark.parametrize("mode", ["spread", "same"])
@pytest.mark.parametrize("jobs", STATES)
@pytest.mark.parametrize("usable, free", [([1, 2, 3], [1, 3]), ([1, 2], [1, 2]), ([2, 3], [3])])
def test_every_permutation_gives_the_same_decision(mode, jobs, usable, free):
    want = placing(mode, jobs, usable, free)
    for order in itertools.permutations(jobs):
        for sut_order in itertools.permutations(usable):
            assert placing(mode, list(order), list(sut_order), list(reversed(free))) == want


def test_one_sut_runs_the_plan_in_the_split_order_a_b_then_b_a():
    """Seen on the real-kernel SUT: session 2's A ran before its B, losing the alternation."""
    jobs = [PlanJob(1, 1, 0, "done", 7), PlanJob(2, 1, 1, "done", 7),
            PlanJob(3, 2, 1, "queued"), PlanJob(4, 2, 0, "queued")]  # as split() makes them
    places = placing("spread", jobs, [7], [7])
    assert places[3] == Place(frozenset({7})) and places[4] == Place(frozenset())
