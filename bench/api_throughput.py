"""Requests per second of `GET /sutclasses` and `GET /leases`, next to a trivial Falcon endpoint,
same gunicorn settings.

Starts a real `fastpath sched run` on SQLite (default API settings: gthread,
2 workers, 32 threads; one class of 4 SUTs on 127.0.10.x that nobody answers
for, so the controller only re-checks them with backoff; LEASES queued leases
of the admin, so that `GET /leases` lists them with their queue positions), and a trivial
Falcon app (one resource returning a small JSON document) under gunicorn with
the same worker class, workers, threads and timeouts. Each is loaded in turn
by a load generator in a separate process: a pool of threads, each with one
keep-alive `http.client` connection, for a fixed time and at most a fixed
number of requests. Loopback only.

The load generator is Python and shares the 2 CPUs with the server: both
endpoints are measured with the same generator, so the ratio is the figure
to read, not the absolute rate.

    .venv/bin/python bench/api_throughput.py [--seconds S] [--connections C] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from harness import SUT_NET, free_port, machine, median, percentile, table, wait_for

# `fastpath sched run`'s defaults (fastpath/sched/server.py, fastpath/cli/sched.py)
WORKERS, THREADS = 2, 32
MAX_REQUESTS = 200_000  # per load run, a bound besides the time
LEASES = 5  # queued, listed by GET /leases with their positions
TARGET = 0.6  # issue 15: each endpoint at least this share of the trivial one


ENDPOINTS = ("/sutclasses", "/leases")
TRIVIAL = "trivial falcon GET /hello"


# --- the trivial endpoint (runs in its own process) ---------------------------


def serve_trivial(port: int) -> None:
    import falcon
    from gunicorn.app.base import BaseApplication

    class Hello:
        def on_get(self, req, resp) -> None:
            resp.media = {"status": "success", "hello": "world"}

    class Trivial(BaseApplication):
        def load_config(self) -> None:
            options = {"bind": f"127.0.0.1:{port}", "workers": WORKERS, "worker_class": "gthread",
                       "threads": THREADS, "timeout": 120, "graceful_timeout": 5,
                       "control_socket_disable": True, "loglevel": "warning"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            app = falcon.App()
            app.add_route("/hello", Hello())
            return app

    Trivial().run()


# --- the load generator (runs in its own process) -----------------------------


def load(url: str, path: str, token: str | None, connections: int, seconds: float,
         max_requests: int) -> dict:
    host, port = url.removeprefix("http://").split(":")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    state = {"left": max_requests, "errors": 0}
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = latencies[i]
        while time.monotonic() < deadline:
            with lock:
                if state["left"] <= 0:
                    break
                state["left"] -= 1
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            mine.append(time.perf_counter() - start)
            if not ok:
                with lock:
                    state["errors"] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    flat = [x for xs in latencies for x in xs]
    return {"requests": len(flat), "errors": state["errors"], "seconds": elapsed,
            "p50": percentile(flat, 50) if flat else 0, "p99": percentile(flat, 99) if flat else 0}


def run_load(url: str, path: str, token: str | None, connections: int, seconds: float) -> dict:
    argv = [sys.executable, __file__, "--load", url, path, "--connections", str(connections),
            "--seconds", str(seconds)] + (["--token", token] if token else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=True)
    return json.loads(done.stdout)


# --- the benchmark ------------------------------------------------------------


def ready(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=2)
        conn.request("GET", "/hello")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per load run")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each endpoint")
    parser.add_argument("--quick", action="store_true", help="2 s runs, 1 round")
    parser.add_argument("--serve-trivial", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seconds = min(max(args.seconds, 0.5), 120.0)
    connections = min(max(args.connections, 1), 64)
    if args.serve_trivial:
        return serve_trivial(args.serve_trivial)
    if args.load:
        print(json.dumps(load(*args.load, args.token, connections, seconds, MAX_REQUESTS)))
        return
    rounds = 1 if args.quick else min(max(args.rounds, 1), 10)
    if args.quick:
        seconds = 2.0

    from harness import scheduler

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        key = work / "id_none"
        key.write_text("not a key: these SUTs are never reached\n")
        suts = [{"name": f"api-{i:02d}", "connection": {"method": "SSH", "params": {
            "host": f"{SUT_NET}{210 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
            for i in range(4)]
        (work / "sutclasses.yaml").write_text(yaml.safe_dump(
            [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": suts}}]))
        port = free_port()
        trivial_url = f"http://127.0.0.1:{port}"
        trivial = subprocess.Popen([sys.executable, __file__, "--serve-trivial", str(port)],
                                   start_new_session=True, stderr=subprocess.DEVNULL)
        try:
            with scheduler(work) as sched:
                wait_for(lambda: ready(trivial_url), 30, 0.1, "the trivial server")
                token = sched.admin_token()
                client = sched.client(token)
                for _ in range(LEASES):
                    client.post("/leases", {"sutclass": "demo"})
                targets = [(f"fastpath GET {p}", sched.url, p, token) for p in ENDPOINTS] + [
                    (TRIVIAL, trivial_url, "/hello", None)]
                results: dict[str, list[dict]] = {label: [] for label, *_ in targets}
                for _, url, path, tok in targets:  # warm up
                    run_load(url, path, tok, connections, 1.0)
                for _ in range(rounds):  # alternate, so that drift in the machine's load is shared
                    for label, url, path, tok in targets:
                        results[label].append(run_load(url, path, tok, connections, seconds))
        finally:
            trivial.terminate()
            try:
                trivial.wait(15)
            except subprocess.TimeoutExpired:
                trivial.kill()
                trivial.wait()

    rows, rates = [], {}
    for label, runs in results.items():
        per_run = [r["requests"] / r["seconds"] for r in runs]
        rates[label] = median(per_run)
        rows.append([label, f"{rates[label]:.0f}", " ".join(f"{x:.0f}" for x in per_run),
                     f"{1000 * median([r['p50'] for r in runs]):.1f}",
                     f"{1000 * median([r['p99'] for r in runs]):.1f}",
                     sum(r["errors"] for r in runs), sum(r["requests"] for r in runs)])
    print(f"gunicorn gthread, {WORKERS} workers x {THREADS} threads; load: {connections} keep-alive "
          f"connections from one Python process, {rounds} x {seconds:.0f} s per endpoint ({machine()})")
    table(["endpoint", "req/s (median)", "req/s per run", "p50 ms", "p99 ms", "errors", "requests"],
          rows)
    print()
    for path in ENDPOINTS:
        ratio = rates[f"fastpath GET {path}"] / rates[TRIVIAL]
        print(f"ratio GET {path} / trivial = {ratio:.2f}; target >= {TARGET}: "
              f"{'met' if ratio >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
