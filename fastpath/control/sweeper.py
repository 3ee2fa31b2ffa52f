"""A controller worker that keeps `--storage` clean: stale temporary files, unreferenced blobs.

An upload becomes a blob only when its request is accepted (fastpath.api.plans),
or when its digest is verified (`PUT /blobs/...`, fastpath.api.blobs), so what
is left behind is a crash's temporary file, or a blob no plan refers to (a
plan's row that never came, or uploads made ahead of a plan that never came).
Both go after a grace period; the first sweep runs when the controller starts
leading. A swept blob's owners go with it: whoever wants it again sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastpath.store.files import Storage
from fastpath.store.queries import blobs, plans

log = logging.getLogger(__name__)


class Sweeper:
    kind = "storage-sweep"

    def __init__(self, storage: Storage, *, grace: float, interval: float,
                 clock: Callable[[], float]) -> None:
        self.storage, self.grace, self.interval, self.clock = storage, grace, interval, clock
        self.next = 0.0  # at once

    def due(self, now: float) -> list[int]:
        return [0] if now >= self.next else []

    def run(self, id: int) -> None:
        now = self.clock()
        self.next = now + self.interval
        removed = self.storage.sweep(plans.referenced_digests, now, self.grace, gone=blobs.forget)
        if any(removed.values()):
            log.info("storage swept: %d temporary files, %d unreferenced blobs removed",
                     removed["tmp"], removed["blobs"])
