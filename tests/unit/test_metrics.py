"""The pure parts of the metrics: SUT states, hand-over latency, step durations, queue waits."""

from __future__ import annotations

import pytest

from fastpath.api.metrics import route
from fastpath.core.metrics import SUT_STATES, handover_latency, oldest_wait, step_durations, sut_state


@pytest.mark.parametrize("health, held, state", [
    ("healthy", None, "free"), ("healthy", "job", "job"), ("healthy", "lease", "lease"),
    ("unhealthy", "job", "unhealthy"), ("reset", None, "reset"), ("unknown", None, "unknown"),
    ("maintenance", None, "maintenance"), ("retired", None, "retired"),
])
def test_a_healthy_sut_is_free_or_held_any_other_is_its_health(health, held, state):
    assert sut_state(health, held) == state
    assert state in SUT_STATES


def test_a_hand_over_is_timed_from_the_release_when_the_next_holder_was_waiting():
    assert handover_latency(freed_at=100.0, queued_at=90.0, held_at=100.04) == pytest.approx(0.04)
    assert handover_latency(freed_at=100.0, queued_at=100.0, held_at=100.5) == pytest.approx(0.5)


def test_an_idle_sut_or_a_first_holder_is_no_hand_over():
    assert handover_latency(freed_at=100.0, queued_at=150.0, held_at=150.01) is None
    assert handover_latency(freed_at=None, queued_at=1.0, held_at=2.0) is None


def test_a_clock_step_back_never_gives_a_negative_latency():
    assert handover_latency(freed_at=100.0, queued_at=90.0, held_at=99.0) == 0.0


def test_each_step_ends_when_the_next_begins_and_the_last_at_the_end():
    steps = [["connect", 10.0], ["prepare", 11.5], ["run", 12.0], ["collect", 42.0], ["cleanup", 43.0]]
    assert step_durations(steps) == [("connect", 1.5), ("prepare", 0.5), ("run", 30.0), ("collect", 1.0)]
    assert step_durations(steps, end=43.25)[-1] == ("cleanup", 0.25)
    assert step_durations(steps[-2:]) == [("collect", 1.0)]
    assert step_durations([], end=5.0) == []
    assert step_durations([["connect", 1.0]]) == []


def test_the_oldest_wait_of_a_queue():
    assert oldest_wait([30.0, 10.0, 20.0], now=50.0) == 40.0
    assert oldest_wait([], now=50.0) == 0.0
    assert oldest_wait([None], now=50.0) == 0.0


def test_routes_are_templates_without_converters():
    assert route("/leases/{id:int(min=1,max=9223372036854775807)}/release") == "/leases/{id}/release"
    assert route("/sutclasses/{name}") == "/sutclasses/{name}"
    assert route(None) == "unmatched"
