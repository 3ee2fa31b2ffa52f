"""Why a queued lease or job waits, its place in the queue, and when it should start.

Pure: plain values in, plain values out. One call ranks a class's whole queue
once (`queue_order`) and walks it once, so that a listing of 10,000 queued jobs
costs one pass per class, never one pass per record shown.

The estimate is a simulation of the queue over the SUTs that can serve it: a
free healthy SUT is available now, a held one when its lease expires or its
job is expected to end (learnt from the durations of past jobs), and a queued
demand that is served holds its SUT for its own expected time. Anything not
known (a lease without a time limit, a job without history, an unhealthy SUT)
makes the SUTs behind it unknown, and an estimate that depends on one is
"unknown" (None), never a guess.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastpath.core.schedule import Demand, queue_order
from fastpath.core.states import SutState

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Holder:
    """What holds a SUT now: a lease (with its expiry, when leases have one) or a job."""

    kind: str  # "lease" or "job"
    id: int
    user: str
    plan: int | None = None  # a job's plan
    started_at: float | None = None
    expected: float | None = None  # a job's expected duration, seconds (None: no history)
    expires_at: float | None = None  # a lease's expiry (None: no limit, or not known)

    def until(self) -> float | None:
        if self.kind == "lease":
            return self.expires_at
        if self.expected is None or self.started_at is None:
            return None
        return self.started_at + self.expected


@dataclass(frozen=True)
class SutInfo:
    name: str
    health: str
    since: float | None = None  # when it entered that health, if known
    holder: Holder | None = None
    reason: str | None = None  # why it is in that health (a reset: which, and after what)


@dataclass(frozen=True)
class ClassQueue:
    """A class's state as the explanation needs it, read in one go."""

    name: str
    suts: Sequence[SutInfo]
    demand: Sequence[Demand]
    held: Mapping[int, int]  # user id -> SUTs of the class that user holds
    # how long each queued demand will hold its SUT once served; absent or None: unknown
    hold_for: Mapping[tuple[str, int], float | None] = field(default_factory=dict)
    plan_of: Mapping[int, int] = field(default_factory=dict)  # queued job id -> plan id


@dataclass(frozen=True)
class Explanation:
    position: int  # 1-based, in the order SUTs will be handed out
    reason: str
    eta: float | None  # estimated start; None: unknown


def expected_duration(samples: Iterable[float]) -> float | None:
    """What a job is expected to take, from the durations of past ones (None without any)."""
    values = [s for s in samples if s is not None and s >= 0]
    return statistics.median(values) if values else None


def clock(t: float, now: float) -> str:
    """A time as people read it in a sentence: hours and minutes UTC, with the date if not soon."""
    at = datetime.fromtimestamp(t, UTC)
    return at.strftime("%H:%MZ" if abs(t - now) < 20 * 3600 else "%Y-%m-%d %H:%MZ")


def _sut_words(sut: SutInfo, now: float) -> str:
    h = sut.holder
    if h is not None:
        until = h.until()
        if h.kind == "lease":
            end = clock(until, now) if until is not None else UNKNOWN
            return f"{sut.name} leased by {h.user} until {end}"
        end = f", expected until {clock(max(until, now), now)}" if until is not None else ""
        return f"{sut.name} running plan {h.plan} job {h.id}{end}"
    since = f" since {clock(sut.since, now)}" if sut.since is not None else ""
    if sut.health == SutState.HEALTHY:
        return f"{sut.name} free"
    if sut.health == SutState.UNKNOWN:
        return f"{sut.name} not yet checked"
    if sut.health == SutState.MAINTENANCE:
        return f"{sut.name} in maintenance{since}"
    if sut.health == SutState.RESET:
        return f"{sut.name} being reset{since}" + (f" ({sut.reason})" if sut.reason else "")
    return f"{sut.name} {sut.health}{since}"


def summary(queue: ClassQueue, now: float) -> str:
    """The class in words: who holds each SUT and until when, which cannot serve and since when."""
    suts = [s for s in queue.suts if s.health != SutState.RETIRED]
    if not suts:
        return f"no SUTs in {queue.name}"
    held = [s for s in suts if s.holder is not None]
    others = [s for s in suts if s.holder is None]
    parts = ", ".join(_sut_words(s, now) for s in held + others)
    n = len(suts)
    return f"{n} SUT{'s' if n != 1 else ''} in {queue.name}: {parts}"


def explain(queue: ClassQueue, now: float) -> dict[tuple[str, int], Explanation]:
    """(kind, id) -> position, reason and estimated start, for every queued demand of the class."""
    order = queue_order(queue.demand, queue.held)
    words = summary(queue, now)
    free_now = any(s.holder is None and s.health == SutState.HEALTHY for s in queue.suts)
    # When each SUT that can serve the queue becomes available (inf: not known).
    ready: list[float] = []
    for s in queue.suts:
        if s.holder is not None:
            until = s.holder.until()
            ready.append(math.inf if until is None else max(until, now))
        elif s.health == SutState.HEALTHY:
            ready.append(now)
    heapq.heapify(ready)
    out: dict[tuple[str, int], Explanation] = {}
    for i, d in enumerate(order, 1):
        start = heapq.heappop(ready) if ready else math.inf
        hold = queue.hold_for.get((d.kind, d.id))
        if start != math.inf:  # once the earliest is unknown, every later one is too
            heapq.heappush(ready, start + hold if hold is not None else math.inf)
        ahead = f"; {i - 1} ahead in the queue" if i > 1 else ""
        if free_now and i == 1:
            reason = f"{words}; next to be served"
        else:
            reason = words + ahead
        out[(d.kind, d.id)] = Explanation(i, reason, None if start == math.inf else start)
    return out


def first_of_plans(queue: ClassQueue, found: Mapping[tuple[str, int], Explanation]
                   ) -> dict[int, tuple[int, Explanation]]:
    """plan id -> (job id, explanation) of its first queued job in the queue's order."""
    out: dict[int, tuple[int, Explanation]] = {}
    for (kind, id), e in found.items():
        if kind != "job" or (plan := queue.plan_of.get(id)) is None:
            continue
        if plan not in out or e.position < out[plan][1].position:
            out[plan] = (id, e)
    return out
