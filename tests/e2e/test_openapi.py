"""The OpenAPI document against the running scheduler, checked by schemathesis.

A real `fastpath sched run` over real SSH test SUTs; schemathesis generates
requests (valid and invalid) for every operation of /openapi.json, sends them
with an admin token, and validates every response with every check (the CLI's
`--checks all`): no 500, a status the document lists, a body that matches its
schema, headers, rejection of invalid input, and acceptance of valid input, so
that the document says exactly what the server accepts. Bounded: a few dozen
examples per operation, and the lease long-poll's `wait` is capped so that no
example waits long.

Where the server judges meaning that no schema says (`judged`: a plan's
contents, an SSH key or a duration that must parse, a window whose end must
come after its start, a blob whose bytes must have the digest it is sent
under), a schema-valid request may get a 400 naming the field;
only for those requests is acceptance of valid input not checked. A user or
SUT class that does not exist is a 404, which the check allows.
"""

from __future__ import annotations

import json
import re
import signal
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fastpath.api.openapi import document
from tests.e2e.conftest import FAST
from tests.e2e.scheduler import Scheduler

MAX_WAIT = 0.3  # seconds a generated `wait` may make one example long-poll


@pytest.fixture(scope="module")
def api(tmp_path_factory, testbed):
    """A running scheduler whose `demo` class holds two real test SUTs, and its admin token."""
    workdir = tmp_path_factory.mktemp("openapi")
    testbed.write_sutclasses(workdir / "sutclasses.yaml", "demo", boot="none",
                             suts=testbed.suts[:2], boot_timeout="20s")
    s = Scheduler(workdir)
    s.start(env={"FASTPATH_TUNING": FAST})
    try:
        yield s, s.admin_token()
    finally:
        s.stop(signal.SIGKILL)


# The document as the code builds it; the test below checks the server serves exactly this.
# (Loaded eagerly: schemathesis' lazy fixture loader does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(document())


def _cap_wait(case) -> None:
    """Keep the long-poll short: `wait` up to 60 s is valid, but would make the run crawl."""
    query = case.query or {}
    if "wait" in query:
        try:
            too_long = float(query["wait"]) > MAX_WAIT
        except (TypeError, ValueError):
            too_long = False
        if too_long:
            query["wait"] = MAX_WAIT


def judged(case) -> bool:
    """Whether the server judges this request's meaning beyond the document (see above)."""
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    op = f"{case.method.upper()} {case.path}"
    return (op in ("POST /plans", "PUT /blobs/{digest}")
            or (op in ("POST /leases", "POST /leases/{id}/extend")
                and (isinstance(body.get("duration"), str) or "ssh_key" in body))
            or (case.path.startswith("/sutclasses") and "from" in query and "to" in query))


def leaves_out_the_token(case) -> bool:
    """A negative case that removes the required Authorization header: it is sent without
    our token, as it means to be (with the token added back the request is valid, and
    the server rightly accepts it)."""
    meta = case.meta
    return (meta is not None and meta.generation.mode.is_negative
            and any(m.parameter_location == ParameterLocation.HEADER and "required" in m.keywords
                    for m in meta.phase.data.mutations))


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_response_matches_the_document(case, api):
    s, token = api
    _cap_wait(case)
    headers = {} if leaves_out_the_token(case) else {"Authorization": f"Bearer {token}"}
    case.call_and_validate(base_url=s.url, headers=headers, timeout=30,
                           excluded_checks=[positive_data_acceptance] if judged(case) else [])


def test_the_server_serves_the_document(api):
    s, _ = api
    with urllib.request.urlopen(s.url + "/openapi.json") as r:
        assert json.load(r) == json.loads(json.dumps(document()))


def test_the_document_covers_every_route(api):
    """Every route the app serves is in the document (so the check above reaches all of them),
    but the dashboard's HTML pages (`fastpath.api.dashboard`): they are for people, not the API."""
    from fastpath.api import create_app

    s, _ = api
    with urllib.request.urlopen(s.url + "/openapi.json") as r:
        documented = {(path, method.upper()) for path, ops in json.load(r)["paths"].items()
                      for method in ops}
    app = create_app(storage=s.workdir / "unused")
    served = set()
    for node in _routes(app._router._roots):
        if type(node.resource).__module__.startswith("fastpath.api.dashboard"):
            continue
        path = re.sub(r"{id:[^}]*}", "{id}", node.uri_template)
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            if _responder(node, method):
                served.add((path, method))
    assert served == documented


def _routes(nodes):
    for node in nodes:
        if node.resource is not None:
            yield node
        yield from _routes(node.children)


def _responder(node, method: str) -> bool:
    fn = node.method_map.get(method)
    return fn is not None and getattr(fn, "__name__", "") != "method_not_allowed"
