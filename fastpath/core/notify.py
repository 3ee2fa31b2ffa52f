"""Which events are worth a webhook, how a notification is signed, and when to try again.

Pure: the event log's rows in, names, bytes and delays out.
"""

from __future__ import annotations

import hashlib
import hmac

from fastpath.core.states import EXPIRING, LeaseState, PlanState, SutState

SIGNATURE_HEADER = "X-Fastpath-Signature"  # "sha256=<hex HMAC of the body>"
ID_HEADER = "X-Fastpath-Delivery"  # the same on every retry: receivers drop duplicates by it
EVENT_HEADER = "X-Fastpath-Event"


def event_type(kind: str, old: str | None, new: str | None) -> str | None:
    """The notification an event log row stands for, or None if it is not one."""
    if kind == "plan" and new in (PlanState.COMPLETED, PlanState.FAILED, PlanState.CANCELLED):
        return f"plan.{new}"
    if kind == "lease" and new in (LeaseState.ACQUIRED, EXPIRING, LeaseState.EXPIRED):
        return f"lease.{new}"
    if kind == "sut" and new == SutState.UNHEALTHY and old != SutState.UNHEALTHY:
        return "sut.unhealthy"
    if kind == "sut" and new == SutState.HEALTHY and old == SutState.UNHEALTHY:
        return "sut.recovered"
    return None


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value: receivers recompute it with the shared secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


