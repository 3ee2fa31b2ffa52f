"""Leases: a person's hold on one SUT of a class."""

from __future__ import annotations

import peewee as pw

from fastpath.core.states import LeaseState, SutState
from fastpath.errors import Conflict, NotFound
from fastpath.store.models import Lease, Sut, SutClass, Usage, User
from fastpath.store.queries.base import atomic, bump, lock, log, transition
from fastpath.store.queries.inventory import get_class, holders


def request_lease(user: User, sutclass: str, priority: int, now: float,
                  key: str | None = None) -> tuple[Lease, bool]:
    """A queued lease, and whether it is new (False: the same request was made before)."""
    if key and (done := Lease.get_or_none((Lease.user == user.id) & (Lease.request_key == key))):
        return done, False
    cls = get_class(sutclass)
    if not cls.enabled:
        raise Conflict(f"SUT class {sutclass!r} is disabled: it is no longer configured")
    try:
        with atomic():
            lease = Lease.create(user=user.id, sutclass=cls.id, state=LeaseState.QUEUED,
                                 priority=priority, queued_at=now, request_key=key)
            log(user.name, "lease", lease.id, None, LeaseState.QUEUED, now)
            bump()
    except pw.IntegrityError:  # the same request, at the same moment
        return Lease.get((Lease.user == user.id) & (Lease.request_key == key)), False
    return lease, True


def get_lease(id: int) -> Lease:
    lease = (
        Lease.select(Lease, User, SutClass)
        .join(User).switch(Lease).join(SutClass)
        .where(Lease.id == id).first()
    )
    if lease is None:
        raise NotFound(f"no lease {id}")
    return lease


def list_leases(states: list[str] | None, user_ids: list[int] | None) -> list[Lease]:
    query = Lease.select(Lease, User, SutClass).join(User).switch(Lease).join(SutClass)
    if states is not None:
        query = query.where(Lease.state.in_(states))
    if user_ids is not None:
        query = query.where(Lease.user.in_(user_ids))
    return list(query.order_by(Lease.id))


def release_lease(lease: Lease, actor: str, now: float) -> Lease:
    """Release an acquired lease, or cancel a queued one; Conflict if it has ended."""
    with atomic():
        if transition(Lease, lease.id, LeaseState.QUEUED, LeaseState.CANCELLED,
                      actor=actor, now=now, ended_at=now):
            pass
        elif transition(Lease, lease.id, LeaseState.ACQUIRED, LeaseState.RELEASED,
                        actor=actor, now=now, ended_at=now):
            Usage.update(ended_at=now).where(
                (Usage.kind == "lease") & (Usage.ref == lease.id) & Usage.ended_at.is_null()
            ).execute()
        else:
            current = Lease.get_by_id(lease.id).state
            raise Conflict(f"lease {lease.id} is already {current}")
        bump()
    return get_lease(lease.id)


def grant_lease(lease_id: int, sut_id: int, now: float) -> bool:
    """Hand a free, usable SUT to a queued lease; False if either has moved on."""
    with atomic():
        lock(Sut, sut_id)
        sut = Sut.get_by_id(sut_id)
        if sut.health != SutState.HEALTHY or sut_id in holders(sut.sutclass_id):
            return False
        lease = Lease.get_by_id(lease_id)
        if not transition(Lease, lease_id, LeaseState.QUEUED, LeaseState.ACQUIRED,
                          actor="controller", now=now, sut=sut_id, acquired_at=now,
                          detail=sut.name):
            return False
        Usage.create(sut=sut_id, sutclass=sut.sutclass_id, user=lease.user_id, kind="lease",
                     ref=lease_id, started_at=now)
        bump()
    return True
