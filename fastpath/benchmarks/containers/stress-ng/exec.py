"""stress-ng/cpu entrypoint: params in /fastpath-share/benchmark.yaml, results.csv out.

params: workers (1-1024, default 1), method (a cpu stressor method of this
stress-ng, such as all, int64, fft, matrixprod; default all), time (1-3600 s,
default 5). Reports bogo operations per second of real time (bigger is
better). Bad params or a failed run exit non-zero with one line naming the
problem, and write no results.csv.
"""

import os
import re
import subprocess
import sys
from typing import NoReturn

import yaml

SHARE = "/fastpath-share"
KNOWN = ("method", "time", "workers")


def fail(message: str) -> NoReturn:
    sys.exit(f"stress-ng/cpu: {message}")


def methods() -> list[str]:
    """The cpu methods this stress-ng has: it lists them for an unknown one."""
    done = subprocess.run(["stress-ng", "--cpu-method", "which"], capture_output=True, text=True)
    _, _, names = (done.stdout + done.stderr).partition("one of:")
    return names.split()


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
    unknown = set(given) - set(KNOWN)
    if unknown:
        fail(f"unknown params {sorted(map(str, unknown))}; known: {', '.join(KNOWN)}")
    p = {"workers": given.get("workers", 1), "method": given.get("method", "all"),
         "time": given.get("time", 5)}
    for name, hi in (("workers", 1024), ("time", 3600)):
        if isinstance(p[name], bool) or not isinstance(p[name], int) or not 1 <= p[name] <= hi:
            fail(f"{name} must be an integer from 1 to {hi}, got {p[name]!r}")
    known = methods()
    if p["method"] not in known:  # checked here so that the message names the param
        fail(f"method must be one of {' '.join(known)}; got {p['method']!r}")
    return p


def main() -> None:
    p = params()
    argv = ["stress-ng", "--cpu", str(p["workers"]), "--cpu-method", p["method"],
            "--timeout", f"{p['time']}s", "--metrics-brief"]
    done = subprocess.run(argv, capture_output=True, text=True)
    print(done.stdout + done.stderr, flush=True)
    if done.returncode != 0:
        fail(f"stress-ng exited with status {done.returncode}")
    # "metrc: [1] cpu  12345  5.00  4.98  0.01  2469.00  2474.2":
    # bogo ops, real time, usr time, sys time, bogo ops/s of real time, of usr+sys time
    m = re.search(r"\bcpu\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", done.stdout + done.stderr)
    if not m:
        fail("no cpu metrics in stress-ng's output")
    # written whole then renamed: a run killed half-way leaves no partial results
    with open(f"{SHARE}/results.csv.tmp", "w") as f:
        f.write("resultclass,value,unit,improvement\n")
        f.write(f"bogo-ops-per-second,{float(m.group(5))},bogo-ops/s,bigger\n")
    os.replace(f"{SHARE}/results.csv.tmp", f"{SHARE}/results.csv")


main()
