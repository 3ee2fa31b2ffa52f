"""The scheduler's REST API: a falcon app that edits desired state and reads state.

It never connects to a SUT and never assigns one: that is the controller's
work. Open the database (`fastpath.store.db.bind`) before serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon

from fastpath.api import errors, openapi
from fastpath.api.blobs import Blobs
from fastpath.api.dashboard import routes as dashboard
from fastpath.api.events import Events
from fastpath.api.healthz import Healthz
from fastpath.api.jobs import Jobs
from fastpath.api.leases import Leases
from fastpath.api.metrics import Metrics, RequestTimer
from fastpath.api.middleware import Authentication, Database, QueryParameters, Tokens
from fastpath.api.openapi import OpenAPI
from fastpath.api.plans import Plans
from fastpath.api.queue import QueueCache
from fastpath.api.sutclasses import SutClasses
from fastpath.api.suts import Suts
from fastpath.api.users import Users
from fastpath.store.files import Storage
from fastpath.store.queries.plans import MAX_QUEUED_JOBS

# Ids are 64-bit in every database; a larger number names no record (404), never a 500.
ID = f"{{id:int(min=1,max={2**63 - 1})}}"


def create_app(
    *,
    storage: Path | None = None,
    max_upload: int = 8 * 1024**3,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    resultstore: str | None = None,
    max_queued_jobs: int | None = MAX_QUEUED_JOBS,
) -> falcon.App:
    known = Tokens(clock)
    # the timer first: it sees every request whole, refusals and errors included
    middleware: list[Any] = [RequestTimer(), Database(), Authentication(known),
                             QueryParameters(openapi.document()), dashboard.Headers()]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app)
    app.add_route("/healthz", Healthz())
    app.add_route("/openapi.json", OpenAPI())
    app.add_route("/metrics", Metrics(clock))
    users = Users(clock, known)
    app.add_route("/users", users)
    app.add_route("/users/{name}", users, suffix="item")
    app.add_route("/users/{name}/token", users, suffix="token")
    app.add_route("/events", Events())
    lab = Suts(clock)
    app.add_route("/suts", lab)
    app.add_route("/suts/{name}", lab, suffix="item")
    sutclasses = SutClasses(clock)
    app.add_route("/sutclasses", sutclasses)
    app.add_route("/sutclasses/{name}", sutclasses, suffix="item")
    queues = QueueCache()  # shared by the leases and the plans: one explanation per class
    leases = Leases(clock, sleep, queues)
    app.add_route("/leases", leases)
    app.add_route("/leases/" + ID, leases, suffix="item")
    app.add_route("/leases/" + ID + "/release", leases, suffix="release")
    app.add_route("/leases/" + ID + "/extend", leases, suffix="extend")
    if storage is not None:
        plans = Plans(clock, Storage(storage), max_upload, queues, resultstore, max_queued_jobs)
        app.add_route("/plans", plans)
        app.add_route("/plans/" + ID, plans, suffix="item")
        app.add_route("/plans/" + ID + "/cancel", plans, suffix="cancel")
        blobs = Blobs(clock, Storage(storage), max_upload)
        app.add_route("/blobs/missing", blobs, suffix="missing")
        app.add_route("/blobs/{digest}", blobs, suffix="item")
        jobs = Jobs(Storage(storage))
        app.add_route("/jobs/" + ID, jobs, suffix="item")
        app.add_route("/jobs/" + ID + "/log", jobs, suffix="log")
    dashboard.install(app, clock=clock, queues=queues, resultstore=resultstore)
    return app
