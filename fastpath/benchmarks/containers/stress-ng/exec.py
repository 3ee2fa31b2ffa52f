"""stress-ng/cpu entrypoint: params in /fastpath-share/benchmark.yaml, results.csv out.

params: workers (1-1024, default 1), method (a cpu stressor method such as
all, int64, fft, matrixprod; default all), time (1-3600 s, default 5).
Reports bogo operations per second of real time (bigger is better).
"""

import re
import subprocess
import sys

import yaml

SHARE = "/fastpath-share"
METHOD = re.compile(r"^[a-z0-9_]{1,32}$")


def params() -> dict:
    given = (yaml.safe_load(open(f"{SHARE}/benchmark.yaml")) or {}).get("params") or {}
    unknown = set(given) - {"workers", "method", "time"}
    if unknown:
        sys.exit(f"stress-ng/cpu: unknown params {sorted(unknown)}; known: method, time, workers")
    p = {"workers": given.get("workers", 1), "method": given.get("method", "all"),
         "time": given.get("time", 5)}
    for name, hi in (("workers", 1024), ("time", 3600)):
        if isinstance(p[name], bool) or not isinstance(p[name], int) or not 1 <= p[name] <= hi:
            sys.exit(f"stress-ng/cpu: {name} must be an integer from 1 to {hi}, got {p[name]!r}")
    if not isinstance(p["method"], str) or not METHOD.match(p["method"]):
        sys.exit(f"stress-ng/cpu: method must be a cpu method name, got {p['method']!r}")
    return p


def main() -> None:
    p = params()
    argv = ["stress-ng", "--cpu", str(p["workers"]), "--cpu-method", p["method"],
            "--timeout", f"{p['time']}s", "--metrics-brief"]
    done = subprocess.run(argv, capture_output=True, text=True)
    print(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"stress-ng exited with status {done.returncode}")
    # "cpu  12345  5.00  9.87  0.01  2469.00  1249.4": bogo ops, real time, usr, sys, ops/s real, ops/s cpu
    m = re.search(r"\bcpu\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", done.stdout + done.stderr)
    if not m:
        sys.exit("stress-ng/cpu: no metrics in the output")
    with open(f"{SHARE}/results.csv", "w") as f:
        f.write("resultclass,value,unit,improvement\n")
        f.write(f"bogo-ops-per-second,{m.group(5)},bogo-ops/s,bigger\n")


main()
