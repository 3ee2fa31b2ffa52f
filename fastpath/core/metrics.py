"""What the metrics count, decided from records (pure: the API and the controller do the I/O).

The SUT states are the dashboard's: a healthy SUT is `free` or held by a
`job` or a `lease`; any other SUT is in its own health state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fastpath.core.states import SutState

SUT_STATES = ("free", "job", "lease", SutState.RESET.value, SutState.UNKNOWN.value,
              SutState.UNHEALTHY.value, SutState.MAINTENANCE.value, SutState.RETIRED.value)


def sut_state(health: str, held_by: str | None) -> str:
    """A SUT's state as the lab sees it; `held_by` is the kind of its holder ("job", "lease")."""
    if health == SutState.HEALTHY:
        return held_by or "free"
    return str(health)


def handover_latency(freed_at: float | None, queued_at: float, held_at: float) -> float | None:
    """Seconds from a SUT's previous holder letting go to its next holder having it.

    None when there is no hand-over to time: the SUT was never held before, or
    it sat idle because its next holder asked only after it was freed.
    """
    if freed_at is None or queued_at > freed_at:
        return None
    return max(0.0, held_at - freed_at)


def step_durations(steps: Sequence[Sequence], end: float | None = None) -> list[tuple[str, float]]:
    """(step, seconds) of each ended step of a job's `progress["steps"]` ([step, began at], ...).

    A step ends when the next one begins; the last one ends at `end` (the
    job's finish) if that is given, else it is still running and not counted.
    """
    out = [(str(step), max(0.0, nxt - began)) for (step, began), (_, nxt) in zip(steps, steps[1:],
                                                                               strict=False)]
    if end is not None and steps:
        out.append((str(steps[-1][0]), max(0.0, end - steps[-1][1])))
    return out


def oldest_wait(queued_at: Iterable[float | None], now: float) -> float:
    """Seconds the longest-waiting entry of a queue has waited (0 for an empty queue)."""
    times = [t for t in queued_at if t is not None]
    return max(0.0, now - min(times)) if times else 0.0
