"""Hostile input against the real `fastpath sched run`: every case is a 4xx naming the field.

Issue 18 found each of these answered with a 500 (a traceback in the log). They
are sent over a real socket, as raw HTTP, so that what gunicorn and falcon do
with the bytes (chunked bodies, deep JSON) is what is tested.
"""

from __future__ import annotations

import http.client
import json
import signal

import pytest

from tests.e2e.conftest import FAST
from tests.e2e.scheduler import Scheduler

PLAN = {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "baseline"}],
        "benchmarks": [{"include": "testing/busyloop.yaml"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory, testbed):
    workdir = tmp_path_factory.mktemp("hostile")
    testbed.write_sutclasses(workdir / "sutclasses.yaml", "demo", boot="none",
                             suts=testbed.suts[:1], boot_timeout="20s")
    s = Scheduler(workdir)
    s.start(env={"FASTPATH_TUNING": FAST})
    try:
        yield s, s.login()
    finally:
        s.stop(signal.SIGKILL)


def send(s, token: str, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         chunked: bool = False) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    h = {"Authorization": f"Bearer {token}", **(headers or {})}
    if chunked:
        conn.putrequest(method, path)
        for k, v in {**h, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(k, v)
        conn.endheaders()
        for i in range(0, len(body), 100):
            piece = body[i:i + 100]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    else:
        conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    return r.status, json.loads(raw or b"{}")


def multipart(parts: dict[str, bytes]) -> tuple[bytes, str]:
    b = "fastpath-boundary"
    out = b"".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
                   for k, v in parts.items()) + f"--{b}--\r\n".encode()
    return out, f"multipart/form-data; boundary={b}"


def js(doc) -> tuple[bytes, dict]:
    return json.dumps(doc).encode(), {"Content-Type": "application/json"}


@pytest.mark.parametrize("priority", ["²", "--5", "٣", "1e400", 10 ** 400])
def test_bad_priorities_are_400_naming_the_field(server, priority):
    s, token = server
    cases = [("POST", "/plans", {"plan": PLAN, "priority": priority}),
             ("POST", "/leases", {"sutclass": "demo", "priority": priority})]
    for method, path, doc in cases:
        status, out = send(s, token, method, path, *js(doc))
        assert status == 400 and out["description"].startswith("priority:"), (path, out)
    body, ctype = multipart({"plan": json.dumps(PLAN).encode(), "priority": str(priority).encode()})
    status, out = send(s, token, "POST", "/plans", body, {"Content-Type": ctype})
    assert status == 400 and out["description"].startswith("priority:"), out


def test_bad_priority_on_plan_patch(server):
    s, token = server
    status, out = send(s, token, "POST", "/plans", *js({"plan": PLAN, "publish": False}))
    assert status == 201, out
    id = out["plan"]["id"]
    for priority in ("²", "--5"):
        status, out = send(s, token, "PATCH", f"/plans/{id}", *js({"priority": priority}))
        assert status == 400 and out["description"].startswith("priority:"), out
    send(s, token, "POST", f"/plans/{id}/cancel")


@pytest.mark.parametrize("path", ["/plans", "/leases", "/users"])
def test_json_nested_100000_deep(server, path):
    s, token = server
    status, out = send(s, token, "POST", path, b"[" * 100_000 + b"]" * 100_000,
                       {"Content-Type": "application/json"})
    assert status == 400 and "nested" in out["description"], out


def test_json_nested_deep_inside_a_field(server):
    s, token = server
    deep = b'{"plan": ' + b'{"a":' * 500 + b"1" + b"}" * 500 + b"}"
    status, out = send(s, token, "POST", "/plans", deep, {"Content-Type": "application/json"})
    assert status == 400 and "nested" in out["description"], out


@pytest.mark.parametrize("timeout", [10 ** 400, "1" * 400, "1" * 400 + "s", 1e308])
def test_huge_benchmark_timeout(server, timeout):
    s, token = server
    plan = {**PLAN, "defaults": {"benchmark": {"timeout": timeout}}}
    status, out = send(s, token, "POST", "/plans", *js({"plan": plan}))
    assert status == 400 and "defaults.benchmark.timeout" in out["description"], out


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_sutclasses_window_out_of_range(server, when):
    s, token = server
    from urllib.parse import quote

    for name in ("from", "to"):
        status, out = send(s, token, "GET", f"/sutclasses?{name}={quote(when)}")
        assert status == 400 and out["description"].startswith(f"{name}:"), out
        status, out = send(s, token, "GET", f"/sutclasses/demo?{name}={quote(when)}")
        assert status == 400 and out["description"].startswith(f"{name}:"), out


def test_chunked_multipart_upload(server):
    s, token = server
    body, ctype = multipart({"plan": json.dumps(PLAN).encode(), "publish": b"false"})
    status, out = send(s, token, "POST", "/plans", body, {"Content-Type": ctype}, chunked=True)
    assert status in (201, 400, 411), out
    if status != 201:
        assert "chunked" in out["description"] or "Content-Length" in out["description"], out


def test_chunked_json(server):
    s, token = server
    body, headers = js({"sutclass": "nope"})
    status, out = send(s, token, "POST", "/leases", body, headers, chunked=True)
    assert status in (400, 404, 411) and status != 500, out


def test_no_traceback_in_the_log(server):
    s, _ = server
    assert "Traceback" not in s.errors() and "unexpected error" not in s.errors(), s.errors()[-3000:]


def test_nan_and_infinity_are_refused(server):
    s, token = server
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        raw = (b'{"plan": {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "b"}], '
               b'"benchmarks": [{"include": "testing/busyloop.yaml", "params": {"x": ' + constant
               + b"}}]}}")
        status, out = send(s, token, "POST", "/plans", raw, {"Content-Type": "application/json"})
        assert status == 400 and constant.decode() in out["description"], out


@pytest.mark.parametrize("kind", ["json", "multipart"])
def test_a_body_shorter_than_its_content_length_creates_nothing(server, kind):
    import socket

    s, token = server
    before = send(s, token, "GET", "/plans?all_users=true&all_states=true")[1]["plans"]
    if kind == "json":
        body, ctype = json.dumps({"plan": PLAN, "publish": False}).encode(), "application/json"
    else:
        body, ctype = multipart({"plan": json.dumps(PLAN).encode(), "publish": b"false"})
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(b"POST /plans HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype.encode() + b"\r\n"
                 b"Authorization: Bearer " + token.encode() + b"\r\n"
                 b"Content-Length: %d\r\n\r\n" % (len(body) + 50) + body)
    sock.shutdown(socket.SHUT_WR)  # the client is done: 50 announced bytes never come
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    assert not reply.startswith(b"HTTP/1.1 201"), reply[:200]
    after = send(s, token, "GET", "/plans?all_users=true&all_states=true")[1]["plans"]
    assert len(after) == len(before)


LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
GOOD = ("sut: {sutclass: demo}\nswprofiles: [{name: baseline}]\n"
        "benchmarks: [{include: testing/busyloop.yaml}]\n")


@pytest.mark.parametrize("text, words", [
    (LAUGHS + GOOD, "line 2, column 8: malformed YAML: aliases are not allowed (*a)"),
    ("sut: {sutclass: demo}\n" + GOOD, "line 2, column 1: malformed YAML: duplicate key 'sut' "
                                       "(first on line 1)"),
    (GOOD + "x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 64 levels"),
    (GOOD + "defaults: {benchmark: {repeats: " + "9" * 5000 + "}}\n", "an integer of 5000 digits"),
    (GOOD.replace("busyloop.yaml}", "busyloop.yaml, params: {x: .nan}}"), "'.nan' is not a finite"),
    (GOOD.replace("busyloop.yaml}", "busyloop.yaml, params: {x: -.Inf}}"), "is not a finite"),
], ids=["billion-laughs", "duplicate-key", "deep", "huge-integer", "nan", "infinity"])
def test_hostile_plan_yaml_in_the_cli(server, tmp_path, text, words):
    s, _ = server
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    before = [p["id"] for p in send(s, server[1], "GET", "/plans?all_users=true&all_states=true")[1]["plans"]]
    done = s.cli("sched", "plan-exec", str(plan), check=False, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert words in done.stderr and str(plan) in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    after = send(s, server[1], "GET", "/plans?all_users=true&all_states=true")[1]["plans"]
    assert [p["id"] for p in after] == before


@pytest.mark.parametrize("query, field", [
    ("/leases/1?wait=%D9%A3", "wait"), ("/leases/1?wait=1_0", "wait"), ("/leases/1?wait=%205", "wait"),
    ("/leases?all_users=1", "all_users"), ("/plans?all_states=yes", "all_states"),
    ("/leases?states=queued,,acquired", "states"), ("/plans?states=%D9%A3", "states"),
    ("/events?kind=lease,%20plan", "kind"), ("/sutclasses?from=2026-02-30", "from"),
    ("/sutclasses?to=2026-03-01%2012:00", "to"), ("/events?since=%D9%A3%D9%A3-01-01", "since"),
])
def test_query_parameters_are_exactly_what_the_document_says(server, query, field):
    """Unicode digits, Python-only number forms, blanks and impossible dates are refused,
    as the document's patterns refuse them (schemathesis checks the document against these)."""
    s, token = server
    send(s, token, "POST", "/leases", *js({"sutclass": "demo"}))  # a lease 1 to wait on
    status, out = send(s, token, "GET", query)
    assert status == 400 and out["description"].startswith(f"{field}:"), out
