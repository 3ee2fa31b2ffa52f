"""sysbench/cpu entrypoint: params in /fastpath-share/benchmark.yaml, results.csv out.

params: threads (1-1024, default 1), max_prime (100-10000000, default 10000),
time (1-3600 s, default 5). Reports events per second (bigger is better) and
the 95th percentile latency in ms (smaller is better).
"""

import re
import subprocess
import sys

import yaml

LIMITS = {"threads": (1, 1024, 1), "max_prime": (100, 10_000_000, 10000), "time": (1, 3600, 5)}
SHARE = "/fastpath-share"


def params() -> dict:
    given = (yaml.safe_load(open(f"{SHARE}/benchmark.yaml")) or {}).get("params") or {}
    unknown = set(given) - set(LIMITS)
    if unknown:
        sys.exit(f"sysbench/cpu: unknown params {sorted(unknown)}; known: {sorted(LIMITS)}")
    out = {}
    for name, (lo, hi, default) in LIMITS.items():
        value = given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            sys.exit(f"sysbench/cpu: {name} must be an integer from {lo} to {hi}, got {value!r}")
        out[name] = value
    return out


def main() -> None:
    p = params()
    argv = ["sysbench", "cpu", f"--threads={p['threads']}", f"--cpu-max-prime={p['max_prime']}",
            f"--time={p['time']}", "run"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    print(out)
    eps = float(re.search(r"events per second:\s*([\d.]+)", out).group(1))
    p95 = float(re.search(r"95th percentile:\s*([\d.]+)", out).group(1))
    with open(f"{SHARE}/results.csv", "w") as f:
        f.write("resultclass,value,unit,improvement\n")
        f.write(f"events-per-second,{eps},events/s,bigger\n")
        f.write(f"latency-p95,{p95},ms,smaller\n")


main()
