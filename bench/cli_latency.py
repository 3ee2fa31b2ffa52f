"""Wall time of the `fastpath` CLI: `--help`, and `sched sutclass-list` against a real server.

Starts a real `fastpath sched run` on SQLite (a class of 4 SUTs on 127.0.10.x
ports nobody listens on: the listing does not need them to answer), saves the
URL and admin token as preferences the way a user does, then times each
command as a fresh process, next to `python3 -c pass` (the venv's base
interpreter, so that a pyenv shim in PATH does not count), median of N runs;
and the GET /sutclasses request alone, from this process, for the server's
share. Also checks that the listing imports none of falcon, peewee, paramiko
(python -X importtime).

    .venv/bin/python bench/cli_latency.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from harness import ROOT, SUT_NET, machine, median, scheduler, table

FASTPATH = str(Path(sys.executable).parent / "fastpath")
TARGET = 0.25
RATIO = 4.0  # issue 15: sutclass-list at most this many times `python3 -c pass`, same run
HEAVY = ("falcon", "peewee", "paramiko", "gunicorn", "yaml", "jsonschema")


def sutclasses(path: Path) -> None:
    key = path.parent / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    suts = [{"name": f"cli-{i:02d}", "connection": {"method": "SSH", "params": {
        "host": f"{SUT_NET}{200 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(4)]
    path.write_text(yaml.safe_dump([{"sutclass": "demo", "type": "static",
                                     "params": {"boot": "none", "suts": suts}}]))


def timed(argv: list[str], env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, timeout=60)
        out.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()}")
    return out


def request_times(client, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get("/sutclasses")
        out.append(time.perf_counter() - start)
    return out


def heavy_imports(argv: list[str], env: dict) -> list[str]:
    """Top-level packages among HEAVY that the command imports, and the cumulative µs of each."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, capture_output=True,
                          text=True, timeout=60)
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if name in HEAVY:
            found.append(f"{name} ({int(cumulative) / 1000:.0f} ms)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--quick", action="store_true", help="5 runs each")
    args = parser.parse_args()
    runs = 5 if args.quick else max(1, min(args.runs, 500))

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        sutclasses(work / "sutclasses.yaml")
        with scheduler(work) as sched:
            sched.login()
            env = {**os.environ, "XDG_CONFIG_HOME": str(sched.config)}
            cases = [
                # the venv's own interpreter, not a pyenv shim in PATH (a shell script)
                ("python3 -c pass", [sys._base_executable, "-c", "pass"]),
                ("python3 -c pass (in the venv)", [sys.executable, "-c", "pass"]),
                ("fastpath --help", [FASTPATH, "--help"]),
                ("fastpath sched sutclass-list", [FASTPATH, "sched", "sutclass-list"]),
            ]
            for _, argv in cases:  # warm the page cache and .pyc files
                timed(argv, env, 1)
            results = {label: timed(argv, env, runs) for label, argv in cases}
            client = sched.client(sched.admin_token())
            results["GET /sutclasses alone (in-process)"] = request_times(client, runs)
            heavy = heavy_imports(["-m", "fastpath", "sched", "sutclass-list"], env)

    base = median(results["python3 -c pass"])
    rows = [[label, f"{1000 * median(v):.1f}", f"{1000 * min(v):.1f}", f"{1000 * max(v):.1f}",
             f"{median(v) / base:.1f}x"] for label, v in results.items()]
    print(f"CLI wall time, median of {runs} runs ({machine()}); repo {ROOT}")
    table(["command", "median ms", "min ms", "max ms", "vs python3 -c pass"], rows)
    listing = median(results["fastpath sched sutclass-list"])
    print(f"\nsutclass-list median {1000 * listing:.0f} ms; target < {1000 * TARGET:.0f} ms: "
          f"{'met' if listing < TARGET else 'NOT met'}")
    ratio = listing / base
    print(f"ratio sutclass-list / python3 -c pass = {ratio:.1f}; target <= {RATIO:g}: "
          f"{'met' if ratio <= RATIO else 'NOT met'}")
    print("heavy imports on the listing path: " + (", ".join(heavy) if heavy else "none"))


if __name__ == "__main__":
    main()
