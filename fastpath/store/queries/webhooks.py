"""The webhook outbox: events fanned out to endpoints, deliveries due, their outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import peewee as pw

from fastpath.core.notify import event_type
from fastpath.store.models import Cursor, Delivery, Event, Lease, Plan, Sut, SutClass, User
from fastpath.store.queries.base import atomic

CURSOR = "webhooks"
PENDING, DELIVERED = "pending", "delivered"


def fan_out(endpoints: list[str], now: float, limit: int = 500) -> int:
    """Queue a delivery per endpoint for each new notifying event; how many events were read.

    The cursor starts at the end of the log the first time: webhooks notify what happens
    from then on, not the lab's history. Run inside the controller's fence.
    """
    cursor = Cursor.get_or_none(Cursor.name == CURSOR)
    if cursor is None:
        last = Event.select(pw.fn.MAX(Event.id)).scalar() or 0
        Cursor.insert(name=CURSOR, position=last).on_conflict_ignore().execute()
        return 0
    rows = list(Event.select(Event.id, Event.kind, Event.old, Event.new)
                .where(Event.id > cursor.position).order_by(Event.id).limit(limit))
    if not rows:
        return 0
    wanted = [e.id for e in rows if event_type(e.kind, e.old, e.new)]
    deliveries = [dict(event=e, endpoint=url, state=PENDING, attempts=0, next_try_at=now,
                       created_at=now) for e in wanted for url in endpoints]
    with atomic():
        for i in range(0, len(deliveries), 100):
            Delivery.insert_many(deliveries[i:i + 100]).on_conflict_ignore().execute()
        Cursor.update(position=rows[-1].id).where(
            (Cursor.name == CURSOR) & (Cursor.position == cursor.position)).execute()
    return len(rows)


def has_new_events() -> bool:
    """Whether the fan-out has anything to read (cheap: every pass asks)."""
    cursor = Cursor.get_or_none(Cursor.name == CURSOR)
    return cursor is None or Event.select(Event.id).where(Event.id > cursor.position).exists()


def due(now: float, limit: int) -> list[int]:
    query = (Delivery.select(Delivery.id)
             .where((Delivery.state == PENDING) & (Delivery.next_try_at <= now))
             .order_by(Delivery.next_try_at, Delivery.id).limit(limit))
    return [d.id for d in query]


def get_delivery(id: int) -> Delivery | None:
    return Delivery.get_or_none(Delivery.id == id)


def delivered(id: int, now: float) -> None:
    Delivery.update(state=DELIVERED, delivered_at=now, attempts=Delivery.attempts + 1,
                    last_error=None).where((Delivery.id == id) & (Delivery.state == PENDING)).execute()


def failed(id: int, attempts: int, reason: str, next_try_at: float) -> None:
    Delivery.update(attempts=attempts, last_error=reason[:2000], next_try_at=next_try_at).where(
        (Delivery.id == id) & (Delivery.state == PENDING)).execute()


def payload(event_id: int) -> dict:
    """The notification of one event: what happened, to which record, with its names."""
    e = Event.get_by_id(event_id)
    at = datetime.fromtimestamp(e.at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    doc: dict[str, Any] = {"id": str(e.id), "type": event_type(e.kind, e.old, e.new), "at": at,
           "actor": e.actor, "kind": e.kind, "ref": e.ref, "from": e.old, "to": e.new,
           "detail": e.detail}
    if e.kind == "plan" and (plan := Plan.get_or_none(Plan.id == e.ref)):
        doc["plan"] = {"id": plan.id, "name": plan.name, "user": User.get_by_id(plan.user_id).name,
                       "sutclass": SutClass.get_by_id(plan.sutclass_id).name, "state": e.new}
    elif e.kind == "lease" and (lease := Lease.get_or_none(Lease.id == e.ref)):
        sut = Sut.get_or_none(Sut.id == lease.sut_id) if lease.sut_id else None
        doc["lease"] = {"id": lease.id, "user": User.get_by_id(lease.user_id).name,
                        "sutclass": SutClass.get_by_id(lease.sutclass_id).name,
                        "sut": sut.name if sut else None,
                        "expires_at": getattr(lease, "expires_at", None)}
    elif e.kind == "sut" and (sut := Sut.get_or_none(Sut.id == e.ref)):
        doc["sut"] = {"name": sut.name, "sutclass": SutClass.get_by_id(sut.sutclass_id).name,
                      "reason": e.detail}
    return doc
