"""Who gets which free SUT of a class: a pure function of the queue.

Demand (queued jobs and queued leases together) is served in order of
priority (higher first), then fairness (the owner holding the fewest SUTs of
the class goes first, counting the SUTs this very pass hands out), then age.
The SUTs of a class are interchangeable for leases, so the order of the
demand decides everything; the result does not depend on the order of the
inputs. A plan's jobs are placed (`placing`): each may be restricted to the
SUT its plan's placement intends for it (DESIGN §13, docs/user-guide.md).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Demand:
    kind: str  # "job" or "lease"
    id: int
    user: int
    priority: int
    queued_at: float
    avoid: frozenset[int] = field(default_factory=frozenset)  # SUTs to skip (a failed boot)
    only: frozenset[int] | None = None  # the SUTs it may take (its placement); empty: it waits


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
        if s.id in d.avoid or (d.only is not None and s.id not in d.only):
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
    done: Mapping[tuple[int, int], int] | None = None, *, cover: bool = False,
) -> dict[tuple[int, int], int]:
    """Which SUT each (session, swprofile) job should run on, so that SUT differences cancel.

    Every SUT runs each swprofile as equally often as the counts allow, and
    the swprofiles of one session spread over different SUTs. `done` holds
    the jobs already placed (on any SUT, healthy or not), which count toward
    the balance; `suts` are the SUTs jobs may still go to. Jobs are placed in
    the split's order (by session, the swprofiles' order reversed in even
    ones); ties go to the SUT with the fewest jobs, then to a rotation of
    session and swprofile (a Latin square). The inputs' order does not matter.

    With `cover`, placing stops once every SUT has a job: a job's SUT depends
    only on the jobs before it, so the first ones are placed as they would
    be in full, and a pass over a 10,000-job plan costs the SUTs squared,
    not the jobs times the SUTs.
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
    # in the split's order (fastpath.plan.split): A B in odd sessions, B A in even ones
    pending = sorted(set(jobs) - set(done), key=lambda j: (j[0], j[1] if j[0] % 2 else -j[1]))
    sessions = {s: i for i, s in enumerate(sorted({s for s, _ in pending} | {s for s, _ in done}))}
    swprofiles = {p: i for i, p in enumerate(sorted({p for _, p in pending} | {p for _, p in done}))}
    out: dict[tuple[int, int], int] = {}
    n = len(healthy)
    uncovered = set(healthy)
    for session, sw in pending:
        if cover and not uncovered:
            break
        turn = sessions[session] + swprofiles[sw]
        sut = healthy[min(range(n), key=lambda i: (per_sw[(sw, healthy[i])], load[healthy[i]],
                                                   (i - turn) % n))]
        out[(session, sw)] = sut
        uncovered.discard(sut)
        per_sw[(sw, sut)] += 1
        load[sut] += 1
    return out


SPREAD, SAME = "spread", "same"  # a plan's `sut.placement` (fastpath.plan.schema)


@dataclass(frozen=True)
class PlanJob:
    """One job of a plan, as placement sees it."""

    id: int
    session: int
    swprofile: int
    state: str  # "queued" (wants a SUT), "holding" (on its SUT now) or "done" (ran; sut kept)
    sut: int | None = None  # where it runs or ran
    assigned_at: float | None = None
    avoid: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Place:
    """Where a queued job may go this pass."""

    only: frozenset[int] | None  # None: any free SUT; empty: it waits
    fell_back_from: int | None = None  # `same`: the plan's SUT, which is no longer usable


def placing(mode: str, jobs: Iterable[PlanJob], usable: Iterable[int],
            free: Iterable[int]) -> dict[int, Place]:
    """Where each queued job of one plan may go: job id -> Place. Pure; input order is irrelevant.

    `usable`: the class's healthy SUTs; `free`: those nobody holds.

    spread: `placement` over the usable SUTs, the jobs that ran or run counting
    toward the balance. A job takes its intended SUT when that is free; it
    waits only while that SUT is held by this same plan (a job of the plan
    will free it); held by anyone else, the job takes any free SUT and the
    rest are placed again around it. So no SUT idles for longer than one of
    the plan's own jobs, and nothing waits on a SUT that is not usable.

    same: every job waits for the SUT that took the plan's first job (until
    then only the first queued job may start). If that SUT is no longer
    usable (unhealthy, in maintenance, retired), the jobs go to any SUT and
    say so (`fell_back_from`).
    """
    jobs = sorted(jobs, key=lambda j: j.id)
    usable, free = set(usable), set(free)
    queued = [j for j in jobs if j.state == "queued"]
    if not queued:
        return {}
    if mode == SAME:
        placed = [j for j in jobs if j.sut is not None and j.state != "queued"]
        if not placed:  # the first job chooses the SUT; the others wait for it
            first = min(queued, key=lambda j: (j.session, j.id))
            return {j.id: Place(None if j is first else frozenset()) for j in queued}
        home = min(placed, key=lambda j: (j.assigned_at or 0.0, j.id)).sut
        # a job that failed to boot there avoids it: it falls back too rather than wait forever
        return {j.id: Place(frozenset({home})) if home in usable and home not in j.avoid
                else Place(None, fell_back_from=home) for j in queued}
    done = {(j.session, j.swprofile): j.sut for j in jobs if j.state != "queued" and j.sut is not None}
    mine = {j.sut for j in jobs if j.state == "holding"}
    wanted = [(j.session, j.swprofile) for j in jobs if j.state == "queued" or j.sut is not None]
    if not usable:  # nothing to place on: the jobs go wherever a SUT comes back
        return {j.id: Place(None) for j in queued}
    intended = placement(wanted, usable, done, cover=True)  # the jobs after those wait their turn
    out: dict[int, Place] = {}
    for j in queued:
        sut = intended.get((j.session, j.swprofile))
        if sut is None:
            out[j.id] = Place(frozenset())
        elif sut in j.avoid:
            out[j.id] = Place(None)
        elif sut in free:
            out[j.id] = Place(frozenset({sut}))
        elif sut in mine:
            out[j.id] = Place(frozenset())
        else:  # someone else holds it: do not wait for them
            out[j.id] = Place(None)
    return out


def placed(demand: Iterable[Demand], places: Mapping[int, Place]) -> list[Demand]:
    """The demand with each placed job restricted to the SUTs its placement allows."""
    out = []
    for d in demand:
        p = places.get(d.id) if d.kind == "job" else None
        out.append(d if p is None or p.only is None else replace(d, only=p.only))
    return out
