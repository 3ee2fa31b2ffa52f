"""Each class's queue explained once per response, and reused while nothing changes.

A listing of many leases, or the long-poll of a lease in a class with a
10,000-job plan, must not rank the queue once per record: `Queues` explains a
class once per response, and a process-wide cache keyed by the change counter
(one per app) serves the next reads until a write moves the counter or the entry grows old
(health changes and the clock move the estimates without a write).
"""

from __future__ import annotations

import threading

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
        self._computing: dict[int, threading.Lock] = {}

    def explained(self, cls: SutClass, now: float) -> Found:
        counter = base.changes()
        with self._lock:
            hit = self._found.get(cls.id)
            computing = self._computing.setdefault(cls.id, threading.Lock())
        if hit and hit[0] == counter and 0 <= now - hit[1] <= self.max_age:
            return hit[2]
        with computing:  # one thread ranks the class; those that asked meanwhile reuse its answer
            with self._lock:
                hit = self._found.get(cls.id)
            if hit and hit[0] == counter and 0 <= now - hit[1] <= self.max_age:
                return hit[2]
            queue = queries.class_queue(cls)
            found = explain(queue, now)
            result = (found, first_of_plans(queue, found))
            with self._lock:
                self._found[cls.id] = (counter, now, result)
            return result


class Queues:
    """The explanations of the classes one response touches, each computed once."""

    def __init__(self, cache: QueueCache, now: float) -> None:
        self.cache, self.now = cache, now
        self.found: dict[int, Found] = {}

    def of(self, cls: SutClass) -> Found:
        if cls.id not in self.found:
            self.found[cls.id] = self.cache.explained(cls, self.now)
        return self.found[cls.id]

    def lease(self, lease) -> Explanation | None:
        return self.of(lease.sutclass)[0].get(("lease", lease.id))

    def plan(self, plan) -> tuple[int, Explanation] | None:
        """The plan's first queued job in the queue's order, and its explanation."""
        return self.of(plan.sutclass)[1].get(plan.id)
