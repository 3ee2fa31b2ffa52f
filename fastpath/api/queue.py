"""Queue positions in one pass: the classes a response shows explained together, and reused.

A listing of many leases or plans, or the long-poll of a lease in a class with
a 10,000-job plan, must not rank the queue once per record: `Queues` explains
every class the response touches in one batch of reads (a fixed number of
statements for any number of classes and records), and a process-wide cache
keyed by the change counter (one per app) serves the next reads until a write
moves the counter or the entry grows old (health changes and the clock move
the estimates without a write).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from fastpath.core.explain import Explanation, explain, first_of_plans
from fastpath.store.models import SutClass
from fastpath.store.queries import base
from fastpath.store.queries import queue as queries

MAX_AGE = 2.0  # seconds an explanation is reused for while the change counter stands still

Found = tuple[dict, dict]  # (kind, id) -> Explanation; plan id -> (job id, Explanation)


class QueueCache:
    """The app's explanations, per class, with the change counter they were computed at."""

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._found: dict[int, tuple[int, float, Found]] = {}
        self._computing = threading.Lock()

    def explained(self, classes: Iterable[SutClass], now: float) -> dict[int, Found]:
        """class id -> its explanations; the classes not cached are read in one batch."""
        wanted = {c.id: c for c in classes}
        if not wanted:
            return {}
        counter = base.changes()
        out: dict[int, Found] = {}
        with self._lock:
            for id in wanted:
                hit = self._found.get(id)
                if hit and hit[0] == counter and 0 <= now - hit[1] <= self.max_age:
                    out[id] = hit[2]
        if len(out) == len(wanted):
            return out
        with self._computing:  # one thread ranks; those that asked meanwhile reuse its answer
            with self._lock:
                for id in wanted:
                    hit = self._found.get(id)
                    if id not in out and hit and hit[0] == counter and 0 <= now - hit[1] <= self.max_age:
                        out[id] = hit[2]
            missing = [c for id, c in wanted.items() if id not in out]
            for id, queue in queries.class_queues(missing).items():
                found = explain(queue, now)
                out[id] = (found, first_of_plans(queue, found))
                with self._lock:
                    self._found[id] = (counter, now, out[id])
        return out


class Queues:
    """The explanations of the classes one response shows, each computed once.

    Call `prepare` with the classes of all the records shown before the views
    ask: they are then read together, not one class at a time.
    """

    def __init__(self, cache: QueueCache, now: float) -> None:
        self.cache, self.now = cache, now
        self.found: dict[int, Found] = {}

    def prepare(self, classes: Iterable[SutClass]) -> Queues:
        self.found.update(self.cache.explained(
            (c for c in classes if c.id not in self.found), self.now))
        return self

    def of(self, cls: SutClass) -> Found:
        if cls.id not in self.found:
            self.prepare([cls])
        return self.found[cls.id]

    def lease(self, lease) -> Explanation | None:
        return self.of(lease.sutclass)[0].get(("lease", lease.id))

    def plan(self, plan) -> tuple[int, Explanation] | None:
        """The plan's first queued job in the queue's order, and its explanation."""
        return self.of(plan.sutclass)[1].get(plan.id)
