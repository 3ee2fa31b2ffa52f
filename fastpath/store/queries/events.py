"""The event log read back: the audit trail of every transition (who, what, from, to, when)."""

from __future__ import annotations

import peewee as pw

from fastpath.store.models import Event, Job, Lease, Plan, Sut, SutClass, User

KINDS = ("lease", "plan", "job", "sut", "sutclass", "user")


def _of_class(class_id: int) -> pw.Expression:
    """Events about the records of one SUT class."""
    return (
        ((Event.kind == "lease") & Event.ref.in_(Lease.select(Lease.id).where(Lease.sutclass == class_id)))
        | ((Event.kind == "plan") & Event.ref.in_(Plan.select(Plan.id).where(Plan.sutclass == class_id)))
        | ((Event.kind == "job") & Event.ref.in_(Job.select(Job.id).where(Job.sutclass == class_id)))
        | ((Event.kind == "sut") & Event.ref.in_(Sut.select(Sut.id).where(Sut.sutclass == class_id)))
        | ((Event.kind == "sutclass") & (Event.ref == class_id))
    )


def _of_user(user: User) -> pw.Expression:
    """Events a user caused, and events about their leases, plans and jobs."""
    return (
        (Event.actor == user.name)
        | ((Event.kind == "user") & (Event.ref == user.id))
        | ((Event.kind == "lease") & Event.ref.in_(Lease.select(Lease.id).where(Lease.user == user.id)))
        | ((Event.kind == "plan") & Event.ref.in_(Plan.select(Plan.id).where(Plan.user == user.id)))
        | ((Event.kind == "job") & Event.ref.in_(Job.select(Job.id).where(Job.user == user.id)))
    )


def list_events(*, since: float | None = None, after: int | None = None, kinds: list[str] | None = None,
                sutclass: SutClass | None = None, user: User | None = None,
                limit: int = 100) -> list[Event]:
    """Events in the order they happened (oldest first), at most `limit`.

    `since` is a time, `after` an event id (to page on from the last one seen).
    """
    query = Event.select()
    if since is not None:
        query = query.where(Event.at >= since)
    if after is not None:
        query = query.where(Event.id > after)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    if sutclass is not None:
        query = query.where(_of_class(sutclass.id))
    if user is not None:
        query = query.where(_of_user(user))
    return list(query.order_by(Event.id).limit(limit))


def names(events: list[Event]) -> dict[tuple[str, int], str]:
    """(kind, ref) -> a name for the records that have one (SUTs, classes, users)."""
    out: dict[tuple[str, int], str] = {}
    for kind, model in (("sut", Sut), ("sutclass", SutClass), ("user", User)):
        ids = {e.ref for e in events if e.kind == kind}
        if ids:
            out.update({(kind, r.id): r.name for r in model.select(model.id, model.name)
                        .where(model.id.in_(list(ids)))})
    return out


def of_record(kind: str, ref: int, limit: int = 50) -> list[Event]:
    """The latest events about one record, newest first."""
    return list(Event.select().where((Event.kind == kind) & (Event.ref == ref))
                .order_by(Event.id.desc()).limit(limit))
