"""Tokens, capabilities, and the state machines."""

from __future__ import annotations

import pytest

from fastpath.core import tokens
from fastpath.core.states import (
    TRANSITIONS,
    JobState,
    LeaseState,
    PlanState,
    SutState,
    allowed,
    check,
    parse_states,
    plan_state,
)
from fastpath.errors import Invalid


def test_tokens_are_random_and_stored_hashed():
    a, b = tokens.new_token(), tokens.new_token()
    assert a != b and len(a) >= 43
    assert tokens.hash_token(a) != a and len(tokens.hash_token(a)) == 64
    assert tokens.token_matches(a, tokens.hash_token(a))
    assert not tokens.token_matches(b, tokens.hash_token(a))


@pytest.mark.parametrize("text, normal", [
    ("exec,query", "exec,query"), ("query, exec", "exec,query"), ("lease,lease", "lease"),
    ("admin,exec,lease,query", "admin,exec,lease,query"),
])
def test_capabilities_normalised(text, normal):
    assert tokens.parse_capabilities(text) == normal


@pytest.mark.parametrize("text, words", [("", "none given"), (" , ", "none given"),
                                         ("exec,root", "unknown 'root'"), ("EXEC", "unknown 'EXEC'")])
def test_bad_capabilities(text, words):
    with pytest.raises(Invalid, match=words):
        tokens.parse_capabilities(text)


@pytest.mark.parametrize("caps, needed, ok", [
    ("exec,query", "exec", True), ("exec,query", "lease", False), ("admin", "lease", True),
    ("query", "admin", False), ("admin", "admin", True),
])
def test_has(caps, needed, ok):
    assert tokens.has(caps, needed) is ok


def test_transitions():
    assert allowed(LeaseState.QUEUED, LeaseState.ACQUIRED)
    assert not allowed(LeaseState.RELEASED, LeaseState.ACQUIRED)
    assert allowed(JobState.RUNNING, JobState.QUEUED)  # an infrastructure failure
    assert not allowed(JobState.COMPLETED, JobState.QUEUED)
    assert not allowed(PlanState.CANCELLED, PlanState.RUNNING)


def test_parse_states_names_the_bad_word():
    assert parse_states(LeaseState, ["queued", "acquired"]) == [LeaseState.QUEUED, LeaseState.ACQUIRED]
    with pytest.raises(ValueError, match="'runing'"):
        parse_states(PlanState, ["runing"])


@pytest.mark.parametrize("started, cancel, jobs, expected", [
    (False, False, {"queued": 3}, "queued"),
    (True, False, {"queued": 2, "running": 1}, "running"),
    (True, False, {"queued": 2, "completed": 1}, "running"),
    (True, False, {"completed": 3}, "completed"),
    (True, False, {"completed": 2, "failed": 1}, "failed"),
    (True, True, {"running": 1, "cancelled": 2}, "running"),
    (True, True, {"completed": 1, "cancelled": 2}, "cancelled"),
    (False, True, {"cancelled": 3}, "cancelled"),
    (True, True, {"failed": 1, "cancelled": 2}, "cancelled"),
])
def test_plan_state_rolls_up_from_jobs(started, cancel, jobs, expected):
    assert plan_state(started, cancel, jobs) == expected


def test_tokens_can_be_typed_as_a_command_line_argument():
    # token_urlsafe alone starts with '-' one time in 64, and click then reads it as an option
    for _ in range(500):
        token = tokens.new_token()
        assert token[0].isalnum() and len(token) > 40


ILLEGAL = [(LeaseState.RELEASED, LeaseState.ACQUIRED), (PlanState.COMPLETED, PlanState.QUEUED),
           (JobState.COMPLETED, JobState.RUNNING), (SutState.RETIRED, SutState.HEALTHY)]


@pytest.mark.parametrize("old,new", ILLEGAL, ids=lambda s: type(s).__name__ + ":" + str(s))
def test_check_refuses_a_move_outside_the_table(old, new):
    with pytest.raises(ValueError, match="is not a transition"):
        check(str(old), new)


def test_every_record_type_has_a_table_and_final_states_stay_final():
    assert set(TRANSITIONS) == {LeaseState, PlanState, JobState, SutState}
    for final in (LeaseState.RELEASED, LeaseState.CANCELLED, LeaseState.EXPIRED, PlanState.COMPLETED,
                  JobState.FAILED, JobState.CANCELLED):
        assert not any(allowed(final, new) for new in type(final))
