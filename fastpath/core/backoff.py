"""Every retry and polling delay of the controller, in one place.

The counts these formulas take are persisted on the records they delay (a
SUT's `failures`, a job's `attempts`, a publish's `publish_failures`), so a
restart resumes the same backoff instead of hammering a broken SUT or store.
"""

from __future__ import annotations


def delay(failures: int, base: float, cap: float) -> float:
    """Capped exponential backoff after the `failures`-th failure in a row: base, 2 base, ... cap."""
    return min(cap, base * 2 ** (max(failures, 1) - 1))


def poll_after(quiet_for: float, low: float, high: float) -> float:
    """The next poll of a running job: often while its runs end quickly, rarely in a long one."""
    return min(high, max(low, quiet_for / 4))
