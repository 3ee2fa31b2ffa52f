"""How long `fastpath result show` takes, and how much memory, on a big resultstore (issue 6).

    .venv/bin/python bench/result_show.py [--quick] [--results N] [--backends sqlite,mysql]

Builds a resultstore of N results (default 1,000,000; --quick: 100,000) in
SQLite and in a scratch database of the local MariaDB (127.0.0.1:3306, root;
see tests/databases.py), through the store's own schema and `put`, then runs
the real CLI in a subprocess, `fastpath result show STORE --swprofile A`
(statistics) and `--swprofile A --swprofile B` (comparison), and reports wall
time and peak RSS of the child (`resource.getrusage(RUSAGE_CHILDREN)`, the
same number as `/usr/bin/time -v`'s "Maximum resident set size"). A run with
a tenth of the results is measured too: if show kept rows in Python, memory
would grow tenfold. The MariaDB database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastpath.results import schema  # noqa: E402
from fastpath.results.backend import open_store  # noqa: E402

MYSQL = os.environ.get("FASTPATH_BENCH_MYSQL", "root@127.0.0.1:3306")
SUTS = 4
SWPROFILES = ("baseline", "candidate")
BENCHMARKS = 10
CLASSES = 3  # result classes per benchmark
REPEATS = 5


def build(url: str, total: int, seed: int = 1) -> float:
    """Fill the store at `url` with `total` results; the seconds it took."""
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    store = open_store(url, create=True)
    suts = []
    for i in range(SUTS):
        row = schema.sut_row({"name": f"bench-{i + 1:02d}", "fingerprint": {"HW": {
            "host_name": f"bench-{i + 1:02d}", "architecture": "x86_64", "cpu_count": 8,
            "cpu_model": "bench", "product_name": "bench"}}})
        suts.append({"id": row["name"], **row})
    sws = []
    for name in SWPROFILES:
        row = schema.swprofile_row({"name": name, "kernel_name": f"6.19.0-{name}"})
        sws.append({"id": name, **row})
    benches = [schema.benchmark_row({"suite": "bench", "name": f"b{i:02d}", "image": "x",
                                     "params": {"i": i}}) for i in range(BENCHMARKS)]
    classes = [{"benchmark": b["id"], "name": f"metric{c}", "unit": "ops",
                "improvement": "bigger" if c % 2 == 0 else "smaller"}
               for b in benches for c in range(CLASSES)]
    with store.transaction():
        store.put("sut", suts)
        store.put("swprofile", sws)
        store.put("benchmark", benches)
        store.put("resultclass", classes)
    per_session = BENCHMARKS * CLASSES * REPEATS
    sessions = total // per_session
    batch: list[tuple] = []
    columns = schema.TABLES["result"]

    def flush() -> None:
        with store.transaction():
            store.put("result", [dict(zip(columns, r, strict=True)) for r in batch])
        batch.clear()

    for s in range(sessions):
        sid = str(uuid.UUID(int=rnd.getrandbits(128)))
        sw = SWPROFILES[s % len(SWPROFILES)]
        sut = suts[s % SUTS]["id"]
        shift = 1.0 if sw == "baseline" else 1.02
        for b in benches:
            for c in range(CLASSES):
                base = 1000.0 * (c + 1) * shift
                for r in range(REPEATS):
                    batch.append((sid, b["id"], f"metric{c}", r, rnd.gauss(base, base * 0.03), sut, sw,
                                  s + 1, s // 10 + 1, f"2026-11-{1 + s * 29 // sessions:02d}T00:00:00Z"))
        if len(batch) >= 20000:
            flush()
    if batch:
        flush()
    store.close()
    return time.perf_counter() - t0


def show(url: str, swprofiles: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, lines printed) of `fastpath result show` in a child."""
    argv = [sys.executable, "-m", "fastpath", "result", "show", url]
    for sw in swprofiles:
        argv += ["--swprofile", sw]
    # a fresh child per run: RUSAGE_CHILDREN's maxrss is the largest child so far, so measure the
    # child through a wrapper that reports its own child's peak
    wrapper = ("import resource,subprocess,sys,time;t=time.perf_counter();"
               "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
               "w=time.perf_counter()-t;"
               "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
               "sys.stderr.write(p.stderr);"
               "print(w,r,len(p.stdout.splitlines()),p.returncode)")
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True,
                          timeout=3600, cwd=ROOT)
    fields = done.stdout.split()
    if len(fields) != 4 or fields[3] != "0":
        raise SystemExit(f"result show failed: {done.stdout}\n{done.stderr}")
    return float(fields[0]), int(fields[1]) / 1024.0, int(fields[2])


def show_argv(url: str, extra: list[str]) -> tuple[float, int]:
    """(wall seconds, lines printed) of `fastpath result show URL EXTRA...` in a child."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "fastpath", "result", "show", url, *extra],
                          capture_output=True, text=True, timeout=3600, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"result show failed: {done.stdout}\n{done.stderr}")
    return wall, len(done.stdout.splitlines())


def baseline_rss() -> float:
    """Peak RSS of a bare `fastpath --help`: the interpreter and the CLI's imports."""
    code = ("import resource,subprocess,sys;"
            "subprocess.run([sys.executable,'-m','fastpath','--help'],capture_output=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip()) / 1024.0


def mysql_scratch() -> tuple[str, callable]:
    import pymysql

    auth, _, hostport = MYSQL.rpartition("@")
    user, _, password = auth.partition(":")
    host, _, port = hostport.partition(":")
    name = "fp_bench_" + uuid.uuid4().hex[:12]
    admin = pymysql.connect(host=host, port=int(port or 3306), user=user, password=password,
                            autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

    cred = f"{user}:{password}" if password else user
    return f"mysql://{cred}@{host}:{port or 3306}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 results instead of 1,000,000")
    parser.add_argument("--results", type=int, help="how many results (default 1,000,000)")
    parser.add_argument("--backends", default="sqlite,mysql")
    args = parser.parse_args()
    total = args.results or (100_000 if args.quick else 1_000_000)
    sizes = [total // 10, total]
    print(f"fastpath result show on resultstores of {', '.join(f'{n:,}' for n in sizes)} results "
          f"({SUTS} SUTs, {len(SWPROFILES)} swprofiles, {BENCHMARKS} benchmarks x {CLASSES} result "
          f"classes, {REPEATS} repeats per session)")
    print(f"baseline: `fastpath --help` peaks at {baseline_rss():.1f} MiB RSS\n")
    print(f"{'backend':8} {'results':>10} {'build s':>8} {'show':>10} {'wall s':>8} {'peak MiB':>9} "
          f"{'lines':>6}")
    figures = {}
    with tempfile.TemporaryDirectory(prefix="fp-bench-show-") as tmp:
        for backend in args.backends.split(","):
            for n in sizes:
                drop = None
                if backend == "sqlite":
                    url = f"sqlite:///{tmp}/results-{n}.db"
                elif backend == "mysql":
                    url, drop = mysql_scratch()
                else:
                    raise SystemExit(f"unknown backend {backend!r}")
                try:
                    built = build(url, n)
                    for label, sws in (("1 swprofile", ["baseline"]),
                                       ("2 (compare)", ["baseline", "candidate"])):
                        wall, rss, lines = show(url, sws)
                        figures[(backend, n, label)] = (wall, rss)
                        print(f"{backend:8} {n:>10,} {built:>8.1f} {label:>10} {wall:>8.2f} "
                              f"{rss:>9.1f} {lines:>6}", flush=True)
                finally:
                    if drop:
                        drop()
    print()
    for backend in args.backends.split(","):
        for label in ("1 swprofile", "2 (compare)"):
            small, big = figures[(backend, sizes[0], label)], figures[(backend, sizes[1], label)]
            print(f"{backend} {label}: x10 results -> wall x{big[0] / small[0]:.1f}, "
                  f"peak RSS x{big[1] / small[1]:.2f}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
