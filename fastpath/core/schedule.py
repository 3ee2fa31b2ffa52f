"""Who gets which free SUT of a class: a pure function of the queue.

Demand (queued jobs and queued leases together) is served in order of
priority (higher first), then fairness (the owner holding the fewest SUTs of
the class goes first, counting the SUTs this very pass hands out), then age.
The SUTs of a class are identical, so the order of the demand decides
everything; the result does not depend on the order of the inputs.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Demand:
    kind: str  # "job" or "lease"
    id: int
    user: int
    priority: int
    queued_at: float
    avoid: frozenset[int] = field(default_factory=frozenset)  # SUTs to skip (a failed boot)


@dataclass(frozen=True)
class FreeSut:
    id: int
    fresh: bool = False  # answered SSH within the last few seconds


@dataclass(frozen=True)
class Assignment:
    demand: Demand
    sut: FreeSut


def _age(d: Demand) -> tuple:
    return (d.queued_at, d.kind, d.id)


def schedule(
    free: Iterable[FreeSut], demand: Iterable[Demand], held: Mapping[int, int]
) -> list[Assignment]:
    """Assign free SUTs to demand; `held` counts the SUTs each user holds in the class now."""
    suts = sorted(free, key=lambda s: s.id)
    if not suts:
        return []
    held = defaultdict(int, held)
    # One queue per (priority, user), oldest first; a heap picks the next queue.
    queues: dict[tuple[int, int], list[Demand]] = defaultdict(list)
    for d in demand:
        queues[(d.priority, d.user)].append(d)
    for q in queues.values():
        q.sort(key=_age, reverse=True)  # pop() from the end gives the oldest

    def key(q: list[Demand]) -> tuple:
        head = q[-1]
        return (-head.priority, held[head.user], *_age(head))

    heap = [(key(q), q) for q in queues.values()]
    heapq.heapify(heap)
    out: list[Assignment] = []
    while suts and heap:
        k, q = heapq.heappop(heap)
        if k != key(q):  # the user's count changed since this entry was pushed
            heapq.heappush(heap, (key(q), q))
            continue
        d = q.pop()
        sut = _pick(suts, d)
        if sut is not None:
            suts.remove(sut)
            held[d.user] += 1
            out.append(Assignment(d, sut))
        if q:
            heapq.heappush(heap, (key(q), q))
    return out


def _pick(suts: list[FreeSut], d: Demand) -> FreeSut | None:
    """The first usable SUT; for a lease the first fresh one, if any (a person gets a SUT that
    needs no probe first). It stops at the first fit: a pass over a big class stays linear."""
    first = None
    for s in suts:
        if s.id in d.avoid:
            continue
        if d.kind != "lease" or s.fresh:
            return s
        if first is None:
            first = s
    return first


def queue_order(demand: Iterable[Demand], held: Mapping[int, int]) -> list[Demand]:
    """The whole queue in the order `schedule` would serve it, were SUTs free.

    The same heap as `schedule` without SUTs to pick from, so that ranking a
    10,000-job queue costs n log n, not n squared.
    """
    held = defaultdict(int, held)
    queues: dict[tuple[int, int], list[Demand]] = defaultdict(list)
    for d in demand:
        queues[(d.priority, d.user)].append(d)
    for q in queues.values():
        q.sort(key=_age, reverse=True)

    def key(q: list[Demand]) -> tuple:
        head = q[-1]
        return (-head.priority, held[head.user], *_age(head))

    heap = [(key(q), q) for q in queues.values()]
    heapq.heapify(heap)
    out: list[Demand] = []
    while heap:
        k, q = heapq.heappop(heap)
        if k != key(q):
            heapq.heappush(heap, (key(q), q))
            continue
        d = q.pop()
        held[d.user] += 1
        out.append(d)
        if q:
            heapq.heappush(heap, (key(q), q))
    return out


def placement(
    jobs: Iterable[tuple[int, int]], suts: Iterable[int],
    done: Mapping[tuple[int, int], int] | None = None,
) -> dict[tuple[int, int], int]:
    """Which SUT each (session, swprofile) job should run on, so that SUT differences cancel.

    Every SUT runs each swprofile as equally often as the counts allow, and
    the swprofiles of one session spread over different SUTs. `done` holds
    the jobs already placed (on any SUT, healthy or not), which count toward
    the balance; `suts` are the SUTs jobs may still go to. Jobs are placed in
    session order; ties go to the SUT with the fewest jobs, then to a
    rotation of session and swprofile (a Latin square). The inputs' order
    does not matter.
    """
    healthy = sorted(set(suts))
    if not healthy:
        return {}
    done = dict(done or {})
    per_sw: dict[tuple[int, int], int] = defaultdict(int)  # (swprofile, sut) -> jobs
    load: dict[int, int] = defaultdict(int)
    for (_session, sw), sut in done.items():
        per_sw[(sw, sut)] += 1
        load[sut] += 1
    pending = sorted(set(jobs) - set(done))
    sessions = {s: i for i, s in enumerate(sorted({s for s, _ in pending} | {s for s, _ in done}))}
    swprofiles = {p: i for i, p in enumerate(sorted({p for _, p in pending} | {p for _, p in done}))}
    out: dict[tuple[int, int], int] = {}
    for session, sw in pending:
        turn = sessions[session] + swprofiles[sw]
        sut = min(healthy, key=lambda s: (per_sw[(sw, s)], load[s],
                                          (healthy.index(s) - turn) % len(healthy)))
        out[(session, sw)] = sut
        per_sw[(sw, sut)] += 1
        load[sut] += 1
    return out
