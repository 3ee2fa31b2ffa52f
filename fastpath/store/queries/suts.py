"""SUT health as the controller observes it, and what it learns about each SUT."""

from __future__ import annotations

from typing import Any

from fastpath.core import backoff
from fastpath.core.states import PROBED, SutState
from fastpath.core.sutclass import refusal_stands
from fastpath.store.models import Sut
from fastpath.store.queries.base import bump, transition
from fastpath.store.queries.inventory import holders

ACTOR = "controller"


def get_sut(id: int) -> Sut:
    return Sut.get_by_id(id)


def suts_to_probe(now: float, idle_interval: float) -> list[Sut]:
    """SUTs never checked, unhealthy ones whose re-check is due, and idle healthy ones gone quiet."""
    held = holders()
    due = Sut.select().where(
        (Sut.health == SutState.UNKNOWN)
        | ((Sut.health == SutState.UNHEALTHY) & (Sut.next_check_at.is_null() | (Sut.next_check_at <= now)))
        | (
            (Sut.health == SutState.HEALTHY)
            & (Sut.last_ok_at.is_null() | (Sut.last_ok_at < now - idle_interval))
        )
    )
    return [s for s in due if (s.health != SutState.HEALTHY or s.id not in held)
            and not _refused(s)]


def _refused(sut: Sut) -> bool:
    """A reset (or a boot back) the guard refused waits for an admin: until the class's
    method for it changes. Probing it back into service would only repeat the refusal."""
    return sut.health == SutState.UNHEALTHY and refusal_stands(
        (sut.facts or {}).get("reset_refused"), sut.params or {})


def record_ok(sut_id: int, now: float, *, facts: dict | None = None, fresh: bool = False) -> None:
    """The SUT answered over SSH: healthy from any probed state (`fresh`: over a new connection)."""
    sut = Sut.get_by_id(sut_id)
    fields: dict[str, Any] = dict(last_ok_at=now, failures=0, next_check_at=None, reason=None)
    if fresh:
        fields["fresh_ok_at"] = now
    if facts is not None:
        fields["facts"] = {**(sut.facts or {}), **facts}
    if sut.health in PROBED and sut.health != SutState.HEALTHY:
        if transition(Sut, sut_id, sut.health, SutState.HEALTHY, field="health", actor=ACTOR,
                      now=now, **fields):
            bump()
    else:
        Sut.update(**fields).where(Sut.id == sut_id).execute()


def record_failure(sut_id: int, now: float, reason: str, *, base: float, cap: float) -> float:
    """The SUT failed a check or a job: unhealthy, re-checked after a capped exponential backoff.

    Returns the delay until the next check. SUTs in maintenance or retired keep
    their state; only their failure count and reason are recorded.
    """
    sut = Sut.get_by_id(sut_id)
    failures = sut.failures + 1
    delay = backoff.delay(failures, base, cap)
    fields = dict(failures=failures, reason=reason[:2000], next_check_at=now + delay)
    if sut.health in PROBED and sut.health != SutState.UNHEALTHY:
        transition(Sut, sut_id, sut.health, SutState.UNHEALTHY, field="health", actor=ACTOR, now=now,
                   detail=reason[:2000], **fields)
    else:
        Sut.update(**fields).where(Sut.id == sut_id).execute()
    return delay


def pin_host_key(sut_id: int, key: str) -> str | None:
    """Trust on first use: store `key` unless one is pinned already; the pinned key."""
    Sut.update(host_key=key).where((Sut.id == sut_id) & Sut.host_key.is_null()).execute()
    return Sut.get_by_id(sut_id).host_key


def set_facts(sut_id: int, facts: dict) -> None:
    sut = Sut.get_by_id(sut_id)
    Sut.update(facts={**(sut.facts or {}), **facts}).where(Sut.id == sut_id).execute()


def begin_reset(sut_id: int, why: str, method: str, now: float, *, kind: str = "reset") -> bool:
    """Put the SUT in `reset` (from a probed state): neither free nor held until it is done.
    `kind` is `reset` (after a lease) or `boot_back` (to its own kernel before one)."""
    sut = Sut.get_by_id(sut_id)
    if sut.health not in PROBED:
        return False
    facts = {**(sut.facts or {}),
             "reset": {"phase": "due", "why": why, "method": method, "kind": kind}}
    moved = transition(Sut, sut_id, sut.health, SutState.RESET, field="health", actor=ACTOR, now=now,
                       detail=why, reason=why, facts=facts)
    if moved:
        bump()
    return moved


def reset_step(sut_id: int, **fields) -> None:
    """Record the reset's next step (its phase, the old boot id, the deadline) before it acts."""
    sut = Sut.get_by_id(sut_id)
    facts = dict(sut.facts or {})
    facts["reset"] = {**(facts.get("reset") or {}), **fields}
    Sut.update(facts=facts).where((Sut.id == sut_id) & (Sut.health == SutState.RESET)).execute()


def end_reset(sut_id: int, now: float, *, failed: str | None = None, seen: dict | None = None,
              base: float = 5.0, refused: str | None = None) -> bool:
    """The reset is over: `healthy` (it answered a new connection just now), or `unhealthy`
    (`refused`: by the guard, and not re-checked while the class's reset stays that method)."""
    sut = Sut.get_by_id(sut_id)
    facts = {**(sut.facts or {}), **(seen or {}), "reset": None, "reset_refused": refused}
    new = SutState.UNHEALTHY if failed else SutState.HEALTHY
    fields: dict[str, Any] = (
        dict(reason=failed[:2000], failures=sut.failures + 1, next_check_at=now + base)
        if failed else dict(reason=None, failures=0, next_check_at=None, last_ok_at=now,
                            fresh_ok_at=now))
    moved = transition(Sut, sut_id, SutState.RESET, new, field="health", actor=ACTOR, now=now,
                       detail=failed, facts=facts, **fields)
    if moved:
        bump()
    return moved


def in_reset() -> list[Sut]:
    return list(Sut.select().where(Sut.health == SutState.RESET))
