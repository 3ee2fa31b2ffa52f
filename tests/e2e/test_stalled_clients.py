"""Stalled clients cost a socket, not a worker (issue 18), against a real `fastpath sched run`.

200 sockets stall: half of them after half a `GET /healthz` header, half
after the header of a `POST /plans` that announces 10,000,000 bytes and
sends 4. With all of them open, `/healthz` and a lease release still answer.
No timing is asserted.
"""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

pytestmark = pytest.mark.slow

STALLED = 200


def stall(port: int, n: int) -> list[socket.socket]:
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Ag")
        else:
            s.sendall(b"POST /plans HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                      b"boundary=b\r\nContent-Length: 10000000\r\n\r\n--b\r")
        socks.append(s)
    return socks


def call(url: str, method: str = "GET", token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as r:  # a hang guard, not a target
        return r.status, json.loads(r.read())


def test_healthz_and_a_release_answer_with_200_stalled_sockets_open(scheduler):
    s = scheduler(count=1)
    s.start()
    token = s.login()
    lease = json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json").stdout)["lease"]
    assert lease["state"] == "acquired"
    socks = stall(s.port, STALLED)
    try:
        assert call(s.url + "/healthz") == (200, {"status": "success", "database": "ok"})
        status, doc = call(f"{s.url}/leases/{lease['id']}/release", "POST", token)
        assert status == 200 and doc["lease"]["state"] == "released"
        for i in range(10):  # and keep answering, one request after another
            assert call(s.url + "/healthz")[0] == 200, i
    finally:
        for sock in socks:
            sock.close()


def answer(port: int, request: bytes) -> bytes:
    """What the server sends back before it closes or the response ends (one request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        got = b""
        while b"\r\n\r\n" not in got and (chunk := sock.recv(65536)):
            got += chunk
        return got


def test_headers_past_16_kib_end_the_connection_with_a_400(scheduler):
    s = scheduler(count=1)
    s.start()
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20_000 + b"\r\n\r\n"
    assert answer(s.port, big).startswith(b"HTTP/1.1 400 ")
    fits = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 15_000 + b"\r\nConnection: close\r\n\r\n"
    assert answer(s.port, fits).startswith(b"HTTP/1.1 200 ")
