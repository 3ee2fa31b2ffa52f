"""sysbench/cpu entrypoint: params in /fastpath-share/benchmark.yaml, results.csv out.

params: threads (1-1024, default 1), max_prime (100-10000000, default 10000),
time (1-3600 s, default 5). Reports events per second (bigger is better) and
the 95th percentile latency in ms (smaller is better). Bad params or a failed
run exit non-zero with one line naming the problem, and write no results.csv.
"""

import os
import re
import subprocess
import sys
from typing import NoReturn

import yaml

LIMITS = {"threads": (1, 1024, 1), "max_prime": (100, 10_000_000, 10000), "time": (1, 3600, 5)}
SHARE = "/fastpath-share"


def fail(message: str) -> NoReturn:
    sys.exit(f"sysbench/cpu: {message}")


def params() -> dict:
    try:
        with open(f"{SHARE}/benchmark.yaml") as f:
            doc = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as exc:
        fail(f"cannot read {SHARE}/benchmark.yaml: {exc}")
    given = doc.get("params") if isinstance(doc, dict) else None
    given = {} if given is None else given
    if not isinstance(given, dict):
        fail(f"params must be a mapping, got {given!r}")
    unknown = set(given) - set(LIMITS)
    if unknown:
        fail(f"unknown params {sorted(map(str, unknown))}; known: {sorted(LIMITS)}")
    out = {}
    for name, (lo, hi, default) in LIMITS.items():
        value = given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            fail(f"{name} must be an integer from {lo} to {hi}, got {value!r}")
        out[name] = value
    return out


def main() -> None:
    p = params()
    argv = ["sysbench", "cpu", f"--threads={p['threads']}", f"--cpu-max-prime={p['max_prime']}",
            f"--time={p['time']}", "run"]
    done = subprocess.run(argv, capture_output=True, text=True)
    print(done.stdout + done.stderr, flush=True)
    if done.returncode != 0:
        fail(f"sysbench exited with status {done.returncode}")
    eps = re.search(r"events per second:\s*([\d.]+)", done.stdout)
    p95 = re.search(r"95th percentile:\s*([\d.]+)", done.stdout)
    if not eps or not p95:
        fail("no events per second or 95th percentile in sysbench's output")
    # written whole then renamed: a run killed half-way leaves no partial results
    with open(f"{SHARE}/results.csv.tmp", "w") as f:
        f.write("resultclass,value,unit,improvement\n")
        f.write(f"events-per-second,{float(eps.group(1))},events/s,bigger\n")
        f.write(f"latency-p95,{float(p95.group(1))},ms,smaller\n")
    os.replace(f"{SHARE}/results.csv.tmp", f"{SHARE}/results.csv")


main()
