"""Publishing each completed job's results into the `--resultstore`.

Its own recorded step (`job.publish`: pending -> done), run after the job
has freed its SUT. The resultstore makes a publish idempotent, so a crash
between publishing and recording it publishes nothing twice. An unreachable
store delays the step with a capped backoff; the results wait safely under
`--storage` meanwhile.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from fastpath.control import failpoints
from fastpath.errors import FastpathError
from fastpath.store.files import Storage
from fastpath.store.queries import jobs

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, controller, storage: Storage, url: str, *,
                 clock: Callable[[], float] = time.time, base: float = 5.0, cap: float = 300.0,
                 open_store: Callable | None = None) -> None:
        self.ctl, self.storage, self.url, self.clock = controller, storage, url, clock
        self.base, self.cap = base, cap
        self.failures: dict[int, int] = {}  # per job, for the backoff (a restart starts afresh)
        if open_store is None:
            from fastpath.results.backend import open_store
        self.open_store = open_store

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
        except (FastpathError, OSError, ValueError) as exc:
            n = self.failures.get(job_id, 0) + 1
            self.failures[job_id] = n
            delay = min(self.cap, self.base * 2 ** (n - 1))
            reason = getattr(exc, "message", None) or str(exc)
            log.warning("publishing job %s failed (retry in %.0fs): %s", job_id, delay, reason)
            with self.ctl.fence():
                jobs.delay_publish(job_id, self.clock() + delay, f"publishing: {reason}")
            return
        self.failures.pop(job_id, None)
        failpoints.reach("after-publish")
        with self.ctl.fence():
            jobs.record_published(job_id, self.clock())
        log.info("job %s published: %d new rows", job_id, added)
