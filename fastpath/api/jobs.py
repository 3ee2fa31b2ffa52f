"""`/jobs/{id}` and `/jobs/{id}/log`: one job of a plan, and what it left in the storage.

The log is read from the server's storage directory of that job, found by
its ids: a request names a job, never a file. Reads follow the rule of all
reads: anyone with `query` (a lab's queue and its outcomes are visible to its users).
"""

from __future__ import annotations

from fastpath.api.middleware import needs
from fastpath.api.request import integer
from fastpath.api.views import job_view
from fastpath.store import joblogs
from fastpath.store.files import Storage
from fastpath.store.queries import jobs

MAX_LINES = 500


class Jobs:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @needs("query")
    def on_get_item(self, req, resp, id: int) -> None:
        job = jobs.find_job(id)
        names = [p["name"] for p in job.plan.document["swprofiles"]]
        resp.media = {"status": "success", "job": job_view(job, names)}

    @needs("query")
    def on_get_log(self, req, resp, id: int) -> None:
        lines = integer(req.get_param("lines") or 20, "lines", 1, MAX_LINES)
        job = jobs.find_job(id)
        names = [p["name"] for p in job.plan.document["swprofiles"]]
        log = joblogs.job_log(self.storage, job.plan_id, job.id, lines=lines)
        resp.media = {"status": "success", "job": job_view(job, names), "log": log}
