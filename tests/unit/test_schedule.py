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
