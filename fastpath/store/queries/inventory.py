"""SUT classes and SUTs: declarative sync from `--sutclasses`, listing, usage."""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from fastpath.core.states import HOLDING_JOB, LeaseState, SutState
from fastpath.core.sutclass import ClassSpec, SutSpec
from fastpath.errors import NotFound
from fastpath.store.models import Job, Lease, Sut, SutClass, Usage, User
from fastpath.store.queries.base import Prepared, atomic, bump, lock, log, transition

ACTOR = "config"


def sync_inventory(specs: list[ClassSpec], now: float) -> dict[str, list[str]]:
    """Make the database match the declared classes; never delete anything.

    New classes and SUTs appear; classes no longer declared are disabled and
    their SUTs retired; a SUT whose connection changed is re-probed (and its
    pinned host key dropped if its address changed).
    """
    changed: dict[str, list[str]] = {"added": [], "updated": [], "disabled": [], "retired": []}
    with atomic():
        declared = set()
        for spec in specs:
            cls = _sync_class(spec, now, changed)
            for sut in spec.suts:
                declared.add(sut.name)
                _sync_sut(cls, sut, now, changed)
        names = [s.name for s in specs]
        for cls in SutClass.select().where(SutClass.enabled & SutClass.name.not_in(names)):
            n = SutClass.update(enabled=False, updated_at=now).where(
                (SutClass.id == cls.id) & SutClass.enabled).execute()
            if n:  # compare-and-set: only the writer that disabled it logs it
                changed["disabled"].append(cls.name)
                log(ACTOR, "sutclass", cls.id, "enabled", "disabled", now)
        gone = Sut.select().where(Sut.name.not_in(list(declared)) & (Sut.health != SutState.RETIRED))
        for retired in gone:
            _set_health(retired, SutState.RETIRED, now, "removed from the configuration", retired_at=now)
            changed["retired"].append(retired.name)
        bump()
    return changed


def _sync_class(spec: ClassSpec, now: float, changed: dict) -> SutClass:
    cls = SutClass.get_or_none(SutClass.name == spec.name)
    if cls is None:
        cls = SutClass.create(
            name=spec.name, provider=spec.provider, enabled=True, params=spec.params,
            created_at=now, updated_at=now,
        )
        changed["added"].append(spec.name)
        log(ACTOR, "sutclass", cls.id, None, "enabled", now)
    elif not cls.enabled or cls.params != spec.params or cls.provider != spec.provider:
        SutClass.update(
            enabled=True, params=spec.params, provider=spec.provider, updated_at=now
        ).where(SutClass.id == cls.id).execute()
        changed["updated"].append(spec.name)
        log(ACTOR, "sutclass", cls.id, "disabled" if not cls.enabled else "enabled", "enabled", now)
    return SutClass.get_by_id(cls.id)


def _sync_sut(cls: SutClass, spec: SutSpec, now: float, changed: dict) -> None:
    sut = Sut.get_or_none(Sut.name == spec.name)
    fields = dict(
        sutclass=cls.id, host=spec.host, port=spec.port, user=spec.user,
        keyfile=spec.keyfile, params=spec.params, declared_maintenance=spec.maintenance,
    )
    wanted = SutState.MAINTENANCE if spec.maintenance else SutState.UNKNOWN
    if sut is None:
        sut = Sut.create(name=spec.name, **fields, health=wanted, created_at=now)
        changed["added"].append(spec.name)
        log(ACTOR, "sut", sut.id, None, wanted, now)
        return
    moved = (sut.host, sut.port) != (spec.host, spec.port)
    reconnect = moved or (sut.user, sut.keyfile) != (spec.user, spec.keyfile)
    differs = any(getattr(sut, k) != v for k, v in fields.items() if k != "sutclass")
    if differs or sut.sutclass_id != cls.id:
        extra = {"host_key": None} if moved else {}
        Sut.update(**fields, **extra).where(Sut.id == sut.id).execute()
        changed["updated"].append(spec.name)
    # maintenance: true forces maintenance; without it, an admin's stored drain still holds
    drained = sut.drained_at is not None
    if (spec.maintenance or drained) and sut.health != SutState.MAINTENANCE:
        _set_health(sut, SutState.MAINTENANCE, now, "maintenance: true in the configuration"
                    if spec.maintenance else drain_words(sut))
    elif not spec.maintenance and not drained and (
        sut.health in (SutState.MAINTENANCE, SutState.RETIRED) or reconnect
    ):
        _set_health(sut, SutState.UNKNOWN, now, None, retired_at=None, failures=0, next_check_at=None)


def drain_words(sut: Sut) -> str:
    return f"drained by {sut.drained_by}" + (f": {sut.drain_reason}" if sut.drain_reason else "")


def _set_health(sut: Sut, health: SutState, now: float, reason: str | None, **fields) -> None:
    if sut.health == health:  # the same state, afresh (a changed connection is probed again)
        Sut.update(reason=reason, **fields).where((Sut.id == sut.id) & (Sut.health == health)).execute()
        return
    transition(Sut, sut.id, sut.health, health, field="health", actor=ACTOR, now=now, detail=reason,
               reason=reason, **fields)


def list_classes() -> list[SutClass]:
    return list(SutClass.select().order_by(SutClass.id))


def get_class(name: str) -> SutClass:
    cls = SutClass.get_or_none(SutClass.name == name)
    if cls is None:
        raise NotFound(f"no SUT class named {name!r}")
    return cls


def class_suts(class_id: int, *, retired: bool = False) -> list[Sut]:
    query = Sut.select().where(Sut.sutclass == class_id)
    if not retired:
        query = query.where(Sut.health != SutState.RETIRED)
    return list(query.order_by(Sut.name))


def claim(sut_id: int) -> Sut | None:
    """Lock the SUT for this transaction and return it if it is healthy and held by nobody."""
    lock(Sut, sut_id)
    sut = Sut.get_by_id(sut_id)
    if sut.health != SutState.HEALTHY or holders(sut.sutclass_id, sut=sut_id):
        return None
    return sut


def holders(class_id: int | None = None, *, sut: int | None = None) -> dict[int, tuple[str, int, int]]:
    """sut id -> (kind, record id, user id) for every SUT held by an active job or lease
    (of the class; or only `sut`, so that a claim reads one row, not the class's)."""
    leases = Lease.select(Lease.id, Lease.sut, Lease.user).where(
        (Lease.state == LeaseState.ACQUIRED) & Lease.sut.is_null(False)
    )
    jobs = Job.select(Job.id, Job.sut, Job.user).where(
        Job.state.in_(HOLDING_JOB) & Job.sut.is_null(False)
    )
    if class_id is not None:
        leases = leases.where(Lease.sutclass == class_id)
        jobs = jobs.where(Job.sutclass == class_id)
    if sut is not None:
        leases = leases.where(Lease.sut == sut)
        jobs = jobs.where(Job.sut == sut)
    out: dict[int, tuple[str, int, int]] = {}
    for kind, rows in (("lease", leases), ("job", jobs)):
        out.update({row.sut_id: (kind, row.id, row.user_id) for row in rows})
    return out


@dataclass(frozen=True)
class ClassUsage:
    in_use: int  # SUTs held now
    total: int  # SUTs not retired
    window: float | None  # share of SUT-time in use over the window, 0..1


def class_usage(cls: SutClass, now: float, start: float | None, end: float | None) -> ClassUsage:
    [(_, usage)] = classes_in_use(now, start, end, name=cls.name)
    return usage


def classes_in_use(now: float, start: float | None = None, end: float | None = None, *,
                   name: str | None = None) -> list[tuple[SutClass, ClassUsage]]:
    """Every class (or the one named) with its usage, now and over the window if one is given.

    One statement for the classes and their counts, whatever their number; a window adds
    two, for the SUTs' lifetimes and the usage intervals of all the classes at once.
    """
    classes = list(_in_use(name))
    if not classes and name is not None:
        raise NotFound(f"no SUT class named {name!r}")
    now_only = {c.id: ClassUsage(_count(c, "leased") + _count(c, "running"), _count(c, "total"), None)
                for c in classes}
    if start is None and end is None:
        return [(c, now_only[c.id]) for c in classes]
    ids = [c.id for c in classes]
    suts: dict[int, list[Sut]] = {id: [] for id in ids}
    for s in Sut.select(Sut.sutclass, Sut.created_at, Sut.retired_at).where(Sut.sutclass.in_(ids)):
        suts[s.sutclass_id].append(s)
    windows = {c.id: _window(c, start, end, now) for c in classes}
    lo_all, hi_all = min(w[0] for w in windows.values()), max(w[1] for w in windows.values())
    used: dict[int, float] = dict.fromkeys(ids, 0.0)
    for u in Usage.select(Usage.sutclass, Usage.started_at, Usage.ended_at).where(
            Usage.sutclass.in_(ids) & (Usage.started_at < hi_all)
            & (Usage.ended_at.is_null() | (Usage.ended_at > lo_all))):
        lo, hi = windows[u.sutclass_id]
        used[u.sutclass_id] += _overlap(u.started_at, u.ended_at or now, lo, hi)
    out = []
    for c in classes:
        lo, hi = windows[c.id]
        share = 0.0
        if hi > lo:
            capacity = sum(_overlap(s.created_at, s.retired_at or hi, lo, hi) for s in suts[c.id])
            share = used[c.id] / capacity if capacity else 0.0
        out.append((c, ClassUsage(now_only[c.id].in_use, now_only[c.id].total, share)))
    return out


def _classes_in_use(name):
    total = Sut.select(pw.fn.COUNT(Sut.id)).where(
        (Sut.sutclass == SutClass.id) & (Sut.health != SutState.RETIRED))
    leased = Lease.select(pw.fn.COUNT(Lease.id)).where(
        (Lease.sutclass == SutClass.id) & (Lease.state == LeaseState.ACQUIRED)
        & Lease.sut.is_null(False))
    running = Job.select(pw.fn.COUNT(Job.id)).where(
        (Job.sutclass == SutClass.id) & Job.state.in_(HOLDING_JOB) & Job.sut.is_null(False))
    query = SutClass.select(SutClass, total.alias("total"), leased.alias("leased"),
                            running.alias("running"))
    if name is not None:
        query = query.where(SutClass.name == name)
    return query.order_by(SutClass.id)


_in_use = Prepared(_classes_in_use)  # every `GET /sutclasses`


def _count(cls: SutClass, column: str) -> int:
    """A count selected beside the class's columns (MariaDB returns a Decimal, or None)."""
    return int(getattr(cls, column) or 0)


def _window(cls: SutClass, start: float | None, end: float | None, now: float) -> tuple[float, float]:
    """The window as it applies to the class: from its creation if open, never past now."""
    return (start if start is not None else cls.created_at, min(end if end is not None else now, now))


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def all_suts() -> list[Sut]:
    """Every SUT not retired, by class and name."""
    return list(Sut.select().where(Sut.health != SutState.RETIRED).order_by(Sut.sutclass, Sut.name))


def sut_usage(sut_id: int, limit: int = 20) -> list[Usage]:
    """The SUT's latest holders (leases and jobs), newest first, with their users."""
    return list(Usage.select(Usage, User).join(User).where(Usage.sut == sut_id)
                .order_by(Usage.started_at.desc()).limit(limit))
