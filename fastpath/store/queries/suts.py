"""SUT health as the controller observes it, and what it learns about each SUT."""

from __future__ import annotations

from fastpath.core.states import PROBED, SutState
from fastpath.errors import NotFound
from fastpath.store.models import Sut, SutClass
from fastpath.store.queries.base import atomic, bump, log
from fastpath.store.queries.inventory import drain_words, holders


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
    return [s for s in due if s.health != SutState.HEALTHY or s.id not in held]


def record_ok(sut_id: int, now: float, *, facts: dict | None = None) -> None:
    """The SUT answered over SSH: healthy from any probed state."""
    sut = Sut.get_by_id(sut_id)
    fields = dict(last_ok_at=now, failures=0, next_check_at=None, reason=None)
    if facts is not None:
        fields["facts"] = {**(sut.facts or {}), **facts}
    if sut.health in PROBED and sut.health != SutState.HEALTHY:
        n = Sut.update(health=SutState.HEALTHY, **fields).where(
            (Sut.id == sut_id) & (Sut.health == sut.health)
        ).execute()
        if n:
            log("controller", "sut", sut_id, sut.health, SutState.HEALTHY, now)
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
    delay = min(cap, base * 2 ** (failures - 1))
    fields = dict(failures=failures, reason=reason[:2000], next_check_at=now + delay)
    if sut.health in PROBED:
        n = Sut.update(health=SutState.UNHEALTHY, **fields).where(
            (Sut.id == sut_id) & (Sut.health == sut.health)
        ).execute()
        if n and sut.health != SutState.UNHEALTHY:
            log("controller", "sut", sut_id, sut.health, SutState.UNHEALTHY, now, reason[:2000])
    else:
        Sut.update(**fields).where(Sut.id == sut_id).execute()
    return delay


def pin_host_key(sut_id: int, key: str) -> str:
    """Trust on first use: store `key` unless one is pinned already; the pinned key."""
    Sut.update(host_key=key).where((Sut.id == sut_id) & Sut.host_key.is_null()).execute()
    return Sut.get_by_id(sut_id).host_key


def set_facts(sut_id: int, facts: dict) -> None:
    sut = Sut.get_by_id(sut_id)
    Sut.update(facts={**(sut.facts or {}), **facts}).where(Sut.id == sut_id).execute()


def find_sut(name: str) -> Sut:
    sut = Sut.get_or_none(Sut.name == name)
    if sut is None:
        raise NotFound(f"no SUT named {name!r}")
    return sut


def list_suts(sutclass: str | None = None) -> list[Sut]:
    """SUTs (retired ones too: they are never deleted), of one class if named."""
    query = Sut.select(Sut, SutClass).join(SutClass)
    if sutclass is not None:
        query = query.where(SutClass.name == sutclass)
    return list(query.order_by(SutClass.name, Sut.name))


def set_drain(sut: Sut, drained: bool, reason: str | None, actor: str, now: float) -> Sut:
    """An admin drains a SUT (its job or lease finishes, nothing new starts) or lifts the drain.

    Stored on the SUT, so that restarts and reloads keep it. Lifting it returns the SUT to
    probing unless the configuration declares it in maintenance, or it is retired.
    """
    with atomic():
        if drained:
            Sut.update(drained_at=now, drained_by=actor, drain_reason=reason).where(
                Sut.id == sut.id).execute()
            current = Sut.get_by_id(sut.id)
            if current.health in PROBED:
                words = drain_words(current)
                n = Sut.update(health=SutState.MAINTENANCE, reason=words).where(
                    (Sut.id == sut.id) & (Sut.health == current.health)).execute()
                if n:
                    log(actor, "sut", sut.id, current.health, SutState.MAINTENANCE, now, words)
        else:
            Sut.update(drained_at=None, drained_by=None, drain_reason=None).where(
                Sut.id == sut.id).execute()
            current = Sut.get_by_id(sut.id)
            if current.health == SutState.MAINTENANCE and not current.declared_maintenance:
                n = Sut.update(health=SutState.UNKNOWN, reason=None, failures=0,
                               next_check_at=None).where(
                    (Sut.id == sut.id) & (Sut.health == SutState.MAINTENANCE)).execute()
                if n:
                    log(actor, "sut", sut.id, SutState.MAINTENANCE, SutState.UNKNOWN, now,
                        "drain lifted")
        bump()
    return Sut.get_by_id(sut.id)
