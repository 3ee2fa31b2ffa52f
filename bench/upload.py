"""`fastpath sched plan-exec` of a plan with a big kernel file: throughput and peak memory.

For each size (20 MB, then 200 MB), a fresh real `fastpath sched run` on
SQLite (`--max-upload 1G`), and a plan whose swprofile's `kernel` is a file of
random bytes made in a temporary directory. The plan targets a class whose
SUTs (127.0.10.x, port 1) never answer, so it stays queued: what is measured
is the submission alone: the client's upload (multipart, streamed) and the
server storing it (content-addressed by sha256).

Figures: wall time of `plan-exec` and MB/s; the client's peak RSS (its
rusage at exit); the peak RSS (VmHWM) of each gunicorn API worker process
and of the API arbiter, read from /proc before and after the upload. The
ratio of peaks between 200 MB and 20 MB shows whether memory stays flat.

    .venv/bin/python bench/upload.py [--sizes 20,200] [--quick]
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
from harness import (
    SUT_NET,
    children,
    cmdline,
    machine,
    proc_status,
    scheduler,
    table,
)

FASTPATH = str(Path(sys.executable).parent / "fastpath")
MB = 1024 * 1024


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 4 * MB)
            f.write(os.urandom(n))
            left -= n


def setup(work: Path, size_mb: int) -> Path:
    key = work / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    suts = [{"name": f"up-{i:02d}", "connection": {"method": "SSH", "params": {
        "host": f"{SUT_NET}{220 + i}", "port": 1, "user": "nobody", "keyfile": str(key)}}}
        for i in range(2)]
    # power_cycle (a plan with a kernel needs a class that boots); /bin/false, and the SUTs never
    # answer, so no job is ever assigned: nothing boots
    (work / "sutclasses.yaml").write_text(yaml.safe_dump([{"sutclass": "demo", "type": "static",
        "params": {"boot": "power_cycle", "power_cycle": ["/bin/false"], "suts": suts}}]))
    write_random(work / "Image", size_mb * MB)
    plan = work / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "sut": {"sutclass": "demo"},
        "swprofiles": [{"name": "big", "kernel": "Image"}],
        "benchmarks": [{"include": "testing/busyloop.yaml"}],
        "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": 1, "timeout": "10m"}},
    }, sort_keys=False))
    return plan


def api_processes(root: int) -> tuple[int | None, list[int]]:
    """(the API arbiter, its gunicorn workers) among the scheduler's descendants."""
    procs = [p for p in children(root) if " sched api " in cmdline(p) + " "]
    pids = set(procs)
    arbiter = next((p for p in procs if _ppid(p) not in pids), None)
    return arbiter, [p for p in procs if p != arbiter]


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, IndexError, ValueError):
        return 0


def measure(tmp: Path, size_mb: int) -> dict:
    work = tmp / f"{size_mb}mb"
    work.mkdir()
    plan = setup(work, size_mb)
    with scheduler(work, extra=["--max-upload", "1G"]) as sched:
        sched.login()
        arbiter, workers = api_processes(sched.proc.pid)
        if not workers:
            raise SystemExit("no gunicorn API worker found")
        before = {p: proc_status(p, "VmHWM") for p in workers}
        env = {**os.environ, "XDG_CONFIG_HOME": str(sched.config)}
        start = time.perf_counter()
        child = subprocess.Popen([FASTPATH, "sched", "plan-exec", str(plan), "--no-publish"],
                                 env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out, err = child.stdout.read().decode(), child.stderr.read().decode()
        if child.returncode != 0:
            raise SystemExit(f"plan-exec failed ({child.returncode}): {out}\n{err}")
        after = {p: proc_status(p, "VmHWM") for p in workers}
        stored = sum(f.stat().st_size for f in (work / "sched_storage").rglob("*") if f.is_file())
        return {"size": size_mb, "seconds": took, "client_kb": usage.ru_maxrss,
                "workers_before": max(before.values()), "workers_after": max(after.values()),
                "worker_growth": max(after[p] - before[p] for p in workers),
                "arbiter_kb": proc_status(arbiter, "VmHWM") if arbiter else 0,
                "stored_mb": stored / MB, "out": out.strip().splitlines()[-1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,200", help="file sizes in MB, smallest first")
    parser.add_argument("--quick", action="store_true", help="2 MB and 20 MB")
    args = parser.parse_args()
    sizes = [2, 20] if args.quick else [min(max(int(s), 1), 2000) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        results = [measure(Path(tmp), size) for size in sizes]

    print(f"plan-exec upload of a random kernel file, one fresh scheduler per size ({machine()})")
    table(["file MB", "plan-exec s", "MB/s", "client peak RSS MB", "API worker peak RSS MB",
           "worker peak before MB", "worker growth MB", "stored MB"],
          [[r["size"], f"{r['seconds']:.2f}", f"{r['size'] / r['seconds']:.1f}",
            f"{r['client_kb'] / 1024:.1f}", f"{r['workers_after'] / 1024:.1f}",
            f"{r['workers_before'] / 1024:.1f}", f"{r['worker_growth'] / 1024:.1f}",
            f"{r['stored_mb']:.1f}"] for r in results])
    small, big = results[0], results[-1]
    print(f"\npeak RSS ratio {big['size']} MB / {small['size']} MB: client "
          f"{big['client_kb'] / small['client_kb']:.2f}x, API worker "
          f"{big['workers_after'] / small['workers_after']:.2f}x (file {big['size'] / small['size']:.0f}x)")
    print(f"plan-exec said: {big['out']}")


if __name__ == "__main__":
    main()
