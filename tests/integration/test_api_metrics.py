"""`/metrics` on every backend: the lab's gauges counted from the database, the API's timings.

In-process (one falcon app, no multiprocess directory): the end-to-end test
(`tests/e2e/test_metrics.py`) checks the same against a real `sched run`
with two workers and the controller.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from fastpath.control import metrics as controller_metrics
from fastpath.store.models import Lease, Sut
from fastpath.store.queries import leases, suts
from tests.integration.api_helpers import Api, declare, make_healthy


def scrape(api: Api) -> dict[tuple[str, tuple], float]:
    r = api.get("/metrics", who=None)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def api(database, clock, tmp_path):
    api = Api(clock, tmp_path / "storage")
    declare(tmp_path, {"demo": 2, "other": 1}, clock(), boot="none")
    make_healthy(clock())
    api.user("bob", "lease,query")
    return api


def test_the_gauges_count_the_database_and_need_no_token(api, clock):
    ids = []
    for _ in range(3):
        r = api.post("/leases", {"sutclass": "demo"}, who="bob")
        assert r.status_code == 201, r.json
        ids.append(r.json["lease"]["id"])
        clock.advance(10)
    demo = sorted(s.id for s in Sut.select().where(Sut.name.startswith("demo")))
    assert leases.grant_lease(ids[0], demo[0], clock())
    suts.record_failure(demo[1], clock(), "cable pulled", base=5, cap=60)
    clock.advance(5)

    m = scrape(api)
    assert value(m, "fastpath_suts", sutclass="demo", state="lease") == 1
    assert value(m, "fastpath_suts", sutclass="demo", state="unhealthy") == 1
    assert value(m, "fastpath_suts", sutclass="demo", state="free") == 0
    assert value(m, "fastpath_suts", sutclass="other", state="free") == 1
    assert value(m, "fastpath_leases", sutclass="demo", state="acquired") == 1
    assert value(m, "fastpath_leases", sutclass="demo", state="queued") == 2
    assert value(m, "fastpath_leases", sutclass="other", state="queued") == 0
    assert value(m, "fastpath_queue_length", sutclass="demo") == 2
    assert value(m, "fastpath_queue_length", sutclass="other") == 0
    # the oldest still queued is the second lease, asked for 10 s after the first
    oldest = Lease.get_by_id(ids[1]).queued_at
    assert value(m, "fastpath_queue_oldest_wait_seconds", sutclass="demo") == pytest.approx(clock() - oldest)
    assert value(m, "fastpath_queue_oldest_wait_seconds", sutclass="other") == 0
    assert value(m, "fastpath_jobs", sutclass="demo", state="queued") == 0
    assert value(m, "fastpath_plans", state="running") == 0


def test_every_request_is_timed_by_route_and_status(api):
    def count(route: str, status: str, method: str = "GET") -> float:
        return REGISTRY.get_sample_value("fastpath_api_request_duration_seconds_count",
                                         {"method": method, "route": route, "status": status}) or 0

    before = (count("/leases/{id}", "200"), count("/leases/{id}", "404"), count("unmatched", "404"),
              count("/leases", "401", "POST"))
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]["id"]
    api.get(f"/leases/{lease}")
    api.get(f"/leases/{lease}")
    api.get("/leases/999999")
    api.get("/nowhere")
    api.post("/leases", {"sutclass": "demo"}, who=None)
    after = (count("/leases/{id}", "200"), count("/leases/{id}", "404"), count("unmatched", "404"),
             count("/leases", "401", "POST"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1, 1]
    m = scrape(api)  # the in-process registry is in the scrape
    assert value(m, "fastpath_api_request_duration_seconds_count", method="GET", route="/leases/{id}",
                 status="200") == after[0]


def test_a_hand_over_is_timed_from_the_release_to_the_waiting_lease(api, clock):
    def observed() -> tuple[float, float]:
        labels = {"kind": "lease"}
        return (REGISTRY.get_sample_value("fastpath_handover_latency_seconds_count", labels) or 0,
                REGISTRY.get_sample_value("fastpath_handover_latency_seconds_sum", labels) or 0)

    sut = Sut.get(Sut.name == "other-01").id
    first = api.post("/leases", {"sutclass": "other"}, who="bob").json["lease"]["id"]
    assert leases.grant_lease(first, sut, clock())
    controller_metrics.handed_over("lease", sut, Lease.get_by_id(first).queued_at, clock())
    count, total = observed()  # the SUT's first holder: no hand-over
    clock.advance(5)
    waiting = api.post("/leases", {"sutclass": "other"}, who="bob").json["lease"]["id"]
    clock.advance(60)
    leases.release_lease(Lease.get_by_id(first), "bob", clock())
    clock.advance(0.25)
    assert leases.grant_lease(waiting, sut, clock())
    controller_metrics.handed_over("lease", sut, Lease.get_by_id(waiting).queued_at, clock())
    assert observed() == (count + 1, pytest.approx(total + 0.25))
