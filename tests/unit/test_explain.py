"""Why a queued lease or job waits: positions, reasons in words, estimated starts."""

from __future__ import annotations

from datetime import UTC, datetime

from fastpath.core.explain import ClassQueue, Holder, SutInfo, expected_duration, explain, first_of_plans
from fastpath.core.schedule import Demand

NOW = datetime(2026, 3, 1, 15, 30, tzinfo=UTC).timestamp()
AT_16 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC).timestamp()


def lease(id, user=1, priority=5, t=0.0):
    return Demand("lease", id, user, priority, NOW - 100 + t)


def job(id, user=2, priority=5, t=0.0):
    return Demand("job", id, user, priority, NOW - 100 + t)


def test_two_leased_suts_name_their_holders_and_an_unknown_eta_without_limits():
    suts = [SutInfo("demo-01", "healthy", holder=Holder("lease", 1, "bob")),
            SutInfo("demo-02", "healthy", holder=Holder("lease", 2, "carol"))]
    q = ClassQueue("demo", suts, [job(10), job(11, t=1)], {}, plan_of={10: 7, 11: 7})
    found = explain(q, NOW)
    first = found[("job", 10)]
    assert first.position == 1 and found[("job", 11)].position == 2
    assert first.reason == ("2 SUTs in demo: demo-01 leased by bob until unknown, "
                            "demo-02 leased by carol until unknown")
    assert "1 ahead in the queue" in found[("job", 11)].reason
    assert first.eta is None
    assert first_of_plans(q, found) == {7: (10, first)}


def test_eta_is_the_earliest_lease_expiry_then_the_next_one():
    suts = [SutInfo("demo-01", "healthy", holder=Holder("lease", 1, "bob", expires_at=AT_16)),
            SutInfo("demo-02", "healthy", holder=Holder("lease", 2, "carol",
                                                         expires_at=AT_16 + 600))]
    q = ClassQueue("demo", suts, [job(10), job(11, t=1), job(12, t=2)], {},
                   hold_for={("job", 10): 60.0})
    found = explain(q, NOW)
    assert "demo-01 leased by bob until 16:00Z" in found[("job", 10)].reason
    assert found[("job", 10)].eta == AT_16
    assert found[("job", 11)].eta == AT_16 + 60  # after job 10's expected minute on demo-01
    # job 11 holds demo-01 for an unknown time; demo-02 frees at 16:10
    assert found[("job", 12)].eta == AT_16 + 600


def test_running_jobs_end_from_learnt_durations_and_unhealthy_suts_say_since_when():
    since = NOW - 1680  # 15:02
    suts = [SutInfo("demo-01", "healthy", holder=Holder("job", 3, "alice", plan=7,
                                                        started_at=NOW - 60, expected=300.0)),
            SutInfo("demo-02", "unhealthy", since=since),
            SutInfo("demo-03", "maintenance")]
    q = ClassQueue("demo", suts, [lease(5)], {})
    e = explain(q, NOW)[("lease", 5)]
    assert e.reason == ("3 SUTs in demo: demo-01 running plan 7 job 3, expected until 15:34Z, "
                        "demo-02 unhealthy since 15:02Z, demo-03 in maintenance")
    assert e.eta == NOW + 240


def test_no_history_means_unknown_and_an_overdue_job_is_due_now():
    running = Holder("job", 3, "alice", plan=7, started_at=NOW - 60)
    q = ClassQueue("demo", [SutInfo("demo-01", "healthy", holder=running)], [lease(5)], {})
    assert explain(q, NOW)[("lease", 5)].eta is None
    late = Holder("job", 3, "alice", plan=7, started_at=NOW - 600, expected=300.0)
    q = ClassQueue("demo", [SutInfo("demo-01", "healthy", holder=late)], [lease(5)], {})
    assert explain(q, NOW)[("lease", 5)].eta == NOW


def test_position_follows_priority_then_fairness_not_arrival():
    suts = [SutInfo("demo-01", "healthy", holder=Holder("lease", 1, "bob"))]
    q = ClassQueue("demo", suts, [job(10, user=2), job(11, user=2, t=1), lease(5, user=3, t=2),
                                  lease(6, user=4, priority=9, t=3)], {2: 0, 3: 0})
    order = {k: e.position for k, e in explain(q, NOW).items()}
    assert order[("lease", 6)] == 1  # higher priority
    assert order[("job", 10)] == 2
    assert order[("lease", 5)] == 3  # user 3 holds nothing, user 2 was just served once
    assert order[("job", 11)] == 4


def test_a_free_suts_waiter_is_next_and_no_suts_is_said():
    q = ClassQueue("demo", [SutInfo("demo-01", "healthy")], [lease(5)], {})
    e = explain(q, NOW)[("lease", 5)]
    assert e.eta == NOW and e.reason.endswith("next to be served")
    empty = ClassQueue("demo", [], [lease(5)], {})
    e = explain(empty, NOW)[("lease", 5)]
    assert e.reason == "no SUTs in demo" and e.eta is None


def test_expected_duration_is_the_median_of_past_jobs():
    assert expected_duration([]) is None
    assert expected_duration([10.0, 12.0, 500.0]) == 12.0


def test_ten_thousand_queued_jobs_are_explained_in_one_pass():
    demand = [job(i, t=i * 0.001) for i in range(10_000)] + [lease(1, user=9)]
    suts = [SutInfo(f"demo-{i:02}", "healthy",
                    holder=Holder("job", 20_000 + i, "alice", plan=1, started_at=NOW, expected=60.0))
            for i in range(2)]
    hold = {("job", i): 60.0 for i in range(10_000)}
    found = explain(ClassQueue("demo", suts, demand, {2: 2}, hold), NOW)
    assert len(found) == 10_001
    assert found[("lease", 1)].position == 1  # user 9 holds nothing: fairness puts it first
    assert found[("job", 9_999)].position == 10_001
    assert found[("job", 9_999)].eta == NOW + 60 * 10_000  # the lease holds the other SUT
