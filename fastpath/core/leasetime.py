"""How long a lease lasts: its duration, the class's maximum, extends and the expiry warning.

Pure: durations in seconds, times in seconds since the epoch. The clock of a
lease starts when it is `acquired`; its deadline (`expires_at`) is the
acquisition plus the duration, moved later by extends. The total, counted
from acquisition, stays within the class maximum unless an admin extends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastpath.errors import Invalid
from fastpath.plan.durations import format_duration, parse_duration

DEFAULT_DURATION = 4 * 3600.0
DEFAULT_MAX_DURATION = 24 * 3600.0
WARN_BEFORE = 15 * 60.0  # the `lease expiring` event comes this long before the deadline ...
WARN_SHARE = 0.10  # ... or at this share of the duration before it, if that is shorter


def limits(params: Mapping[str, Any] | None) -> tuple[float, float]:
    """(default, maximum) duration of a class's leases, from its params."""
    params = params or {}
    default = params.get("lease_duration") or DEFAULT_DURATION
    maximum = params.get("lease_max_duration") or DEFAULT_MAX_DURATION
    return float(default), float(maximum)


def duration(value: object, params: Mapping[str, Any] | None) -> float:
    """The duration a new lease asks for (None: the class default); Invalid names the maximum."""
    default, maximum = limits(params)
    if value is None:
        return min(default, maximum)
    seconds = _positive(value)
    if seconds > maximum:
        raise Invalid(f"duration: {format_duration(seconds)} is longer than the class maximum of "
                      f"{format_duration(maximum)}")
    return seconds


def extended(acquired_at: float, expires_at: float, more: object,
             params: Mapping[str, Any] | None, *, admin: bool) -> float:
    """The new deadline after extending by `more`; Invalid past the maximum (an admin may exceed it)."""
    seconds = _positive(more)
    _, maximum = limits(params)
    new = expires_at + seconds
    if not admin and new - acquired_at > maximum:
        left = max(0.0, acquired_at + maximum - expires_at)
        raise Invalid(f"duration: the lease would last {format_duration(round(new - acquired_at))} "
                      f"from its acquisition, longer than the class maximum of "
                      f"{format_duration(maximum)}; it may be extended by at most "
                      f"{format_duration(round(left))}")
    return new


def warn_at(acquired_at: float, expires_at: float) -> float:
    """When the `lease expiring` event is due: 15 min before the deadline, or 10 % if shorter."""
    lead = min(WARN_BEFORE, WARN_SHARE * max(0.0, expires_at - acquired_at))
    return expires_at - lead


def time_left(expires_at: float | None, now: float) -> float | None:
    return None if expires_at is None else max(0.0, expires_at - now)


def _positive(value: object) -> float:
    seconds = parse_duration(value, source="duration", path="")
    if seconds <= 0:
        raise Invalid("duration: expected a positive duration like 30m, 2h or 1d")
    return seconds
