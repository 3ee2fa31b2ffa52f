"""Leases: a person's hold on one SUT of a class."""

from __future__ import annotations

import peewee as pw

from fastpath.core import leasetime
from fastpath.core.states import EXPIRING, LeaseState
from fastpath.core.sutclass import reset_method
from fastpath.errors import Conflict, NotFound
from fastpath.store.models import Lease, LeaseKey, Sut, SutClass, Usage, User
from fastpath.store.queries.base import Prepared, atomic, bump, lock, log, transition
from fastpath.store.queries.inventory import claim, get_class
from fastpath.store.queries.suts import begin_reset


def request_lease(user: User, sutclass: str, priority: int, now: float,
                  key: str | None = None, *, duration: object = None,
                  ssh_key: str | None = None) -> tuple[Lease, bool]:
    """A queued lease, and whether it is new (False: the same request was made before).

    `duration` (None: the class default) is checked against the class maximum.
    """
    if key and (done := Lease.get_or_none((Lease.user == user.id) & (Lease.request_key == key))):
        return done, False
    cls = get_class(sutclass)
    if not cls.enabled:
        raise Conflict(f"SUT class {sutclass!r} is disabled: it is no longer configured")
    seconds = leasetime.duration(duration, cls.params)
    try:
        with atomic():
            lease = Lease.create(user=user.id, sutclass=cls.id, state=LeaseState.QUEUED,
                                 priority=priority, queued_at=now, request_key=key,
                                 duration=seconds, ssh_key=ssh_key)
            log(user.name, "lease", lease.id, None, LeaseState.QUEUED, now)
            bump()
    except pw.IntegrityError:  # the same request, at the same moment
        return Lease.get((Lease.user == user.id) & (Lease.request_key == key)), False
    return lease, True


def _leases() -> pw.ModelSelect[Lease]:
    """Leases with their user, class and SUT (if any) in the same statement."""
    return (Lease.select(Lease, User, SutClass, Sut).join(User).switch(Lease).join(SutClass)
            .switch(Lease).join(Sut, pw.JOIN.LEFT_OUTER))


def _one(id):
    return _leases().where(Lease.id == id).limit(1)


def _listed(states, user_ids):
    # only the columns the listing shows of the joined records: making rows is most of its cost
    query = (Lease.select(Lease, User.id, User.name, SutClass.id, SutClass.name, Sut.id, Sut.name,
                          Sut.host, Sut.port, Sut.user, Sut.params, Sut.host_key)
             .join(User).switch(Lease).join(SutClass).switch(Lease).join(Sut, pw.JOIN.LEFT_OUTER))
    if states is not None:
        query = query.where(Lease.state.in_(states))
    if user_ids is not None:
        query = query.where(Lease.user.in_(user_ids))
    return query.order_by(Lease.id)


_get, _list = Prepared(_one), Prepared(_listed)  # the API reads these on every request


def get_lease(id: int) -> Lease:
    lease = next(iter(_get(id)), None)
    if lease is None:
        raise NotFound(f"no lease {id}")
    return lease


CHUNK = 500  # ids per statement of `settled`; a short chunk is padded, so the SQL is built once


def settled(ids: list[int]) -> set[int]:
    """Those of `ids` that are no longer queued: the waiters' check after every change, so
    one prepared statement per CHUNK ids (peewee building a 500-id IN was most of the
    API's CPU with 1,000 waiters)."""
    done: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        done.update(id for id, in _settled(chunk + [0] * (CHUNK - len(chunk))))  # no lease 0
    return done


_settled = Prepared(lambda ids: Lease.select(Lease.id).where(
    Lease.id.in_(ids) & (Lease.state != LeaseState.QUEUED)).tuples())


def list_leases(states: list[str] | None, user_ids: list[int] | None) -> list[Lease]:
    """Leases for a listing: their user's and class's names and their SUT's address only."""
    return list(_list(states, user_ids))


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
            _reset_after(lease.id, now)
        else:
            current = Lease.get_by_id(lease.id).state
            raise Conflict(f"lease {lease.id} is already {current}")
        bump()
    return get_lease(lease.id)


def grant_lease(lease_id: int, sut_id: int, now: float, *, kernel: tuple[str, str] | None = None) -> bool:
    """Hand a free, usable SUT to a queued lease; False if either has moved on.

    Its clock starts now: the deadline is now plus the duration it asked for.
    `kernel` is the (release, cmdline) seen on the SUT just before.
    """
    with atomic():
        sut = claim(sut_id)
        if sut is None:
            return False
        lease = Lease.get_by_id(lease_id)
        duration = lease.duration or leasetime.duration(None, sut.sutclass.params)
        release, cmdline = kernel or ((sut.facts or {}).get("release"), (sut.facts or {}).get("cmdline"))
        if not transition(Lease, lease_id, LeaseState.QUEUED, LeaseState.ACQUIRED,
                          actor="controller", now=now, sut=sut_id, acquired_at=now,
                          duration=duration, expires_at=now + duration, warned_at=None,
                          kernel_release=release, kernel_cmdline=cmdline, detail=sut.name):
            return False
        Usage.create(sut=sut_id, sutclass=sut.sutclass_id, user=lease.user_id, kind="lease",
                     ref=lease_id, started_at=now)
        bump()
    return True


def extend_lease(lease: Lease, more: object, actor: str, now: float, *, admin: bool) -> Lease:
    """Move an acquired lease's deadline later by `more`; Conflict if it is not acquired."""
    with atomic():
        lock(Lease, lease.id)
        current = Lease.get_by_id(lease.id)
        if (current.state != LeaseState.ACQUIRED or current.expires_at is None
                or current.acquired_at is None):
            raise Conflict(f"lease {lease.id} is {current.state}; only an acquired lease can be extended")
        new = leasetime.extended(current.acquired_at, current.expires_at, more,
                                 lease.sutclass.params, admin=admin)
        changed = Lease.update(expires_at=new, warned_at=None).where(
            (Lease.id == lease.id) & (Lease.state == LeaseState.ACQUIRED)
            & (Lease.expires_at == current.expires_at)).execute()
        if changed != 1:
            raise Conflict(f"lease {lease.id} changed meanwhile; try again")
        log(actor, "lease", lease.id, LeaseState.ACQUIRED, LeaseState.ACQUIRED, now,
            f"extended to {new:.3f}")
        bump()
    return get_lease(lease.id)


def due_to_expire(now: float) -> list[Lease]:
    """Acquired leases whose deadline has passed."""
    return list(Lease.select().where((Lease.state == LeaseState.ACQUIRED) & (Lease.expires_at <= now)))


def expire_lease(lease_id: int, now: float) -> bool:
    """`acquired` -> `expired` if its deadline has passed (compare-and-set); False otherwise."""
    with atomic():
        lease = Lease.get_or_none(Lease.id == lease_id)
        if lease is None or lease.expires_at is None or lease.expires_at > now:
            return False
        if not transition(Lease, lease_id, LeaseState.ACQUIRED, LeaseState.EXPIRED,
                          actor="controller", now=now, ended_at=now, detail="deadline passed"):
            return False
        Usage.update(ended_at=now).where(
            (Usage.kind == "lease") & (Usage.ref == lease_id) & Usage.ended_at.is_null()
        ).execute()
        _reset_after(lease_id, now)
        bump()
    return True


def _reset_after(lease_id: int, now: float) -> None:
    """In the transaction that ends a lease: its SUT goes to `reset` (the class's `reset`)."""
    lease = Lease.get_by_id(lease_id)
    if lease.sut_id is None:
        return
    method = reset_method(Sut.get_by_id(lease.sut_id).params or {})
    if method != "none":
        begin_reset(lease.sut_id, f"reset ({method}) after lease {lease_id}", method, now)


def due_to_warn(now: float, lead: float) -> list[Lease]:
    """Acquired leases not yet warned whose deadline is within `lead` (callers refine per lease)."""
    return list(Lease.select().where(
        (Lease.state == LeaseState.ACQUIRED) & Lease.warned_at.is_null()
        & (Lease.expires_at <= now + lead)))


def warn_lease(lease_id: int, expires_at: float, now: float) -> bool:
    """Record the `lease expiring` event once per deadline."""
    with atomic():
        n = Lease.update(warned_at=now).where(
            (Lease.id == lease_id) & (Lease.state == LeaseState.ACQUIRED)
            & Lease.warned_at.is_null() & (Lease.expires_at == expires_at)).execute()
        if n != 1:
            return False
        log("controller", "lease", lease_id, LeaseState.ACQUIRED, EXPIRING, now,
            f"lease expiring at {expires_at:.3f}")
        bump()
    return True


def next_deadline() -> float | None:
    """The soonest deadline of an acquired lease, to wake the controller right then."""
    row = (Lease.select(Lease.expires_at)
           .where((Lease.state == LeaseState.ACQUIRED) & Lease.expires_at.is_null(False))
           .order_by(Lease.expires_at).first())
    return None if row is None else row.expires_at



def key_intent(lease_id: int, sut_id: int, now: float) -> None:
    """Record, before installing it, that the lease's key may be on the SUT from now on."""
    with atomic():
        if not LeaseKey.select().where((LeaseKey.lease == lease_id) & (LeaseKey.sut == sut_id)
                                       & LeaseKey.removed_at.is_null()).exists():
            LeaseKey.create(lease=lease_id, sut=sut_id, added_at=now)


def keys_removed(sut_id: int, lease_ids: list[int], now: float) -> None:
    """The keys of these leases are gone from the SUT; the SUT may be free again."""
    with atomic():
        LeaseKey.update(removed_at=now).where(
            (LeaseKey.sut == sut_id) & LeaseKey.lease.in_(lease_ids) & LeaseKey.removed_at.is_null()
        ).execute()
        bump()


def key_on(lease_id: int) -> bool:
    """Whether the lease's key is (still) recorded as on its SUT."""
    return LeaseKey.select().where((LeaseKey.lease == lease_id)
                                   & LeaseKey.removed_at.is_null()).exists()


def note_access(lease_id: int, note: str) -> None:
    Lease.update(access_note=note).where(Lease.id == lease_id).execute()
