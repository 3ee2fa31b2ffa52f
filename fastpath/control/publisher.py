"""Publishing each completed job's results into the `--resultstore`.

Its own recorded step (`job.publish`: pending -> done), run after the job
has freed its SUT. The resultstore makes a publish idempotent, so a crash
between publishing and recording it publishes nothing twice. A publish that
fails (an unreachable store, a damaged manifest, anything unexpected) is
tried again after a capped backoff whose count is kept on the job, so a
restart neither forgets it nor starts it afresh; the results wait safely
under `--storage` meanwhile.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from fastpath.control import failpoints
from fastpath.control.tuning import Tuning
from fastpath.core import backoff
from fastpath.errors import LostLeadership
from fastpath.store.files import Storage
from fastpath.store.queries import jobs

log = logging.getLogger(__name__)


class Publisher:
    kind = "publish"

    def __init__(self, storage: Storage, url: str, fence: Callable[[], AbstractContextManager], *,
                 tuning: Tuning = Tuning(), clock: Callable[[], float] = time.time,
                 open_store: Callable | None = None) -> None:
        self.storage, self.url, self.fence = storage, url, fence
        self.tuning, self.clock = tuning, clock
        if open_store is None:
            from fastpath.results import backend

            open_store = backend.open_store
        self.open_store: Callable = open_store

    def due(self, now: float) -> list[int]:
        return jobs.publish_due(now)

    def run(self, job_id: int) -> None:
        failpoints.reach("before-publish")
        job = jobs.get_job(job_id)
        path = self.storage.job_dir(job.plan_id, job.id) / "manifest.json"
        try:
            doc = json.loads(path.read_text())
            store = self.open_store(self.url, create=True)
            try:
                added = store.publish(doc)
            finally:
                store.close()
        except LostLeadership:
            raise
        except Exception as exc:  # expected (store away, bad file) or not: retried with backoff
            failures = job.publish_failures + 1
            delay = backoff.delay(failures, self.tuning.publish_base, self.tuning.publish_cap)
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("publishing job %s failed (retry in %.0fs): %s", job_id, delay, reason)
            with self.fence():
                jobs.delay_publish(job_id, failures, self.clock() + delay, f"publishing: {reason}")
            return
        failpoints.reach("after-publish")
        with self.fence():
            jobs.record_published(job_id, self.clock())
        log.info("job %s published: %d new rows", job_id, added)
