"""`/metrics`: the lab in Prometheus' text format, and the API's request durations.

Two kinds of metric (DESIGN §13). Gauges of the lab (SUTs by class and
state, queues, leases, jobs and plans by state) are counted from the
database at each scrape (`census`), so any API process answers the same.
Histograms are observed by the process that sees the event: each API worker
times its requests (`RequestTimer`), the controller its passes, hand-overs
and job steps; with a shared directory (`fastpath.metrics`) one scrape sums
them over every worker and the controller.

`/metrics` is public, as `/healthz` is: no label holds a user's name, a
token or anything a plan says; only SUT class names, states, steps and the
API's route templates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import falcon
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from fastpath.core.metrics import SUT_STATES, oldest_wait
from fastpath.core.states import JobState, LeaseState, PlanState
from fastpath.metrics import Forward, process_registry
from fastpath.store.queries import census

# the classic text format, which every Prometheus reads (what generate_latest writes, for these names)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_SECONDS = Histogram(
    "fastpath_api_request_duration_seconds", "Time to answer an API request, by route and status",
    ["method", "route", "status"],
    # few buckets: one series per route, method and status, summed over every worker at each scrape
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60))


def route(template: str | None) -> str:
    """The route's template without converters ("/leases/{id}"), or "unmatched" (a 404)."""
    return re.sub(r"{(\w+):[^}]*}", r"{\1}", template) if template else "unmatched"


class RequestTimer:
    """Falcon middleware (first in the list: it sees the whole request, error handlers included)."""

    def process_request(self, req, resp) -> None:
        req.context.metrics_started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        started = getattr(req.context, "metrics_started", None)
        if started is not None:
            REQUEST_SECONDS.labels(req.method, route(req.uri_template),
                                   str(resp.status_code)).observe(time.perf_counter() - started)


class Census:
    """A collector of the lab's gauges, read from the database when collected."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock

    def collect(self):
        names = census.class_names()
        suts = GaugeMetricFamily("fastpath_suts", "SUTs by class and state", labels=["sutclass", "state"])
        counted = census.sut_states()
        for cls, name in names.items():
            for state in SUT_STATES:
                suts.add_metric([name, state], counted.get((cls, state), 0))
        yield suts
        queued = census.queued_by_class()
        now = self.clock()
        length = GaugeMetricFamily("fastpath_queue_length", "Queued jobs and leases by class",
                                   labels=["sutclass"])
        wait = GaugeMetricFamily("fastpath_queue_oldest_wait_seconds",
                                 "How long the longest-waiting queued job or lease of a class has waited",
                                 labels=["sutclass"])
        for cls, name in names.items():
            n, oldest = queued.get(cls, (0, None))
            length.add_metric([name], n)
            wait.add_metric([name], oldest_wait([oldest], now))
        yield length
        yield wait
        for what, read, states in (("leases", census.leases_by_class_and_state, LeaseState),
                                   ("jobs", census.jobs_by_class_and_state, JobState)):
            family = GaugeMetricFamily(f"fastpath_{what}", f"{what.capitalize()} by class and state",
                                       labels=["sutclass", "state"])
            counts = read()
            for cls, name in names.items():
                for state in states:
                    family.add_metric([name, state.value], counts.get((cls, state.value), 0))
            yield family
        plans = GaugeMetricFamily("fastpath_plans", "Plans by state", labels=["state"])
        counts = census.plans_by_state()
        for state in PlanState:
            plans.add_metric([state.value], counts.get(state.value, 0))
        yield plans


class Metrics:
    public = True

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def on_get(self, req, resp) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(Forward(process_registry()))
        registry.register(Census(self.clock))
        resp.content_type = CONTENT_TYPE
        resp.data = generate_latest(registry)
        resp.status = falcon.HTTP_200
