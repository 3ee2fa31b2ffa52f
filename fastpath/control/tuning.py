"""The controller's timings, from `FASTPATH_TUNING` (DESIGN §4 gives the defaults' reasons)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from fastpath.errors import Invalid


@dataclass(frozen=True)
class Tuning:
    poll: float = 0.02  # how often the change counter is read where nothing notifies (MariaDB)
    tick: float = 1.0  # a pass at least this often (only what time made due, with no change)
    full_tick: float = 5.0  # a full pass at least this often, even with no change (a safety net)
    ttl: float = 4.0  # leadership lasts this long without renewal (failover within ttl + standby)
    renew: float = 1.0  # renew leadership this often
    standby: float = 0.5  # how often a standby tries to take over
    stamp: float = 1.0  # a fenced write commits only this soon after the time it records
    probe_interval: float = 60.0  # idle healthy SUTs are re-checked this often
    fresh: float = 5.0  # a SUT that answered this recently needs no probe before a lease
    backoff_base: float = 5.0  # first re-check of an unhealthy SUT
    backoff_cap: float = 300.0
    workers: int = 16
    job_poll_min: float = 0.1  # how often a running benchmark is polled, at first (a trivial
    # container ends within a second; each poll is one command on an open connection)
    job_poll_max: float = 30.0  # ... and at most, once it has run a while
    boot_poll: float = 2.0  # how often a booting SUT is tried
    unreachable_grace: float = 90.0  # how long a running job's SUT may not answer before it fails
    retry_base: float = 2.0  # a job whose attempt failed is queued again after this, doubling
    retry_cap: float = 60.0
    publish_base: float = 5.0  # a publish that failed is tried again after this, doubling
    publish_cap: float = 300.0
    webhook_backoff_base: float = 2.0  # first retry of a failed webhook delivery
    webhook_backoff_cap: float = 300.0
    storage_grace: float = 3600.0  # an unreferenced blob or a stale upload is kept this long
    storage_sweep: float = 600.0  # how often --storage is swept


def tuning_from(text: str | None) -> Tuning:
    """Tuning from `FASTPATH_TUNING`, e.g. "probe_interval=10,ttl=5" (seconds, or workers)."""
    if not text:
        return Tuning()
    known = {f.name: f.type for f in fields(Tuning)}
    values: dict[str, Any] = {}
    for item in text.split(","):
        name, _, value = item.strip().partition("=")
        if name not in known:
            raise Invalid(f"FASTPATH_TUNING: unknown setting {name!r}; known: {', '.join(known)}")
        try:
            number = int(value) if name == "workers" else float(value)
        except ValueError:
            raise Invalid(f"FASTPATH_TUNING: {name} must be a number, got {value!r}") from None
        if number <= 0:
            raise Invalid(f"FASTPATH_TUNING: {name} must be positive")
        values[name] = number
    return Tuning(**values)
