"""/healthz and release latency with 200 stalled sockets open, against none (issue 18).

    .venv/bin/python bench/stalled_clients.py [--stalled 200] [--requests 200]

A real `fastpath sched run` with default settings over one testbed SUT. First
REQUESTS /healthz calls with nothing else open (the floor), then the same
with STALLED sockets open: half sent half a `GET /healthz` header, half the
header of a `POST /plans` announcing 10,000,000 bytes and 4 bytes of it.
Then a lease is acquired and released with the sockets still open.
Target (issue 18): the stalled clients cost a socket, not a worker: /healthz
keeps answering, p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import percentile  # noqa: E402
from sched_lab import Lab  # noqa: E402

from tests.e2e.test_stalled_clients import stall  # noqa: E402


def healthz(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        with urllib.request.urlopen(url + "/healthz", timeout=120) as r:
            r.read()
        out.append(time.perf_counter() - t)
    return out


def post(url: str, token: str, body: dict | None = None) -> tuple[float, dict]:
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        doc = json.loads(r.read())
    return time.perf_counter() - t, doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fp-bench-stalled-") as tmp:
        lab = Lab(Path(tmp), 1, prefix="st", net="127.0.21")
        try:
            lab.wait_healthy(120)
            url, token = lab.sched.url, lab.sched.admin_token()
            floor = healthz(url, args.requests)
            socks = stall(lab.sched.port, args.stalled)
            try:
                loaded = healthz(url, args.requests)
                _, doc = post(url + "/leases", token, {"sutclass": "demo"})
                lease = doc["lease"]["id"]
                while doc["lease"]["state"] == "queued":
                    with urllib.request.urlopen(urllib.request.Request(
                            f"{url}/leases/{lease}?wait=30",
                            headers={"Authorization": f"Bearer {token}"}), timeout=120) as r:
                        doc = json.loads(r.read())
                release, doc = post(f"{url}/leases/{lease}/release", token)
                assert doc["lease"]["state"] == "released", doc
            finally:
                for s in socks:
                    s.close()
        finally:
            lab.close()
    ms = 1000
    print(f"stalled_clients: {args.stalled} stalled sockets, {args.requests} /healthz each way")
    print(f"/healthz, nothing stalled: p50 {percentile(floor, 50) * ms:.1f} ms, "
          f"p99 {percentile(floor, 99) * ms:.1f} ms")
    print(f"/healthz, {args.stalled} stalled: p50 {percentile(loaded, 50) * ms:.1f} ms, "
          f"p99 {percentile(loaded, 99) * ms:.1f} ms (ratio p99 "
          f"{percentile(loaded, 99) / percentile(floor, 99):.2f}; target p99 < 100 ms)")
    print(f"lease release, {args.stalled} stalled: {release * ms:.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
