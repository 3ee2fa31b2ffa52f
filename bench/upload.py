"""`fastpath sched plan-exec` of a plan with a big kernel file: throughput, floors, dedup, memory.

For each size (20 MB, then 200 MB), a fresh real `fastpath sched run` on
SQLite (`--max-upload 1G`), and a plan whose swprofile's `kernel` is a file of
random bytes made in a temporary directory. The plan targets a class whose
SUTs (127.0.10.x, port 1) never answer, so it stays queued: what is measured
is the submission alone: the client's dry run, hashing, one `missing`
question, the `PUT /blobs/sha256:...` of the kernel (hashed, written and
fsynced on arrival) and the JSON plan.

Figures, in the same run, for each size:
- `plan-exec` of a new kernel: wall time and MB/s (the whole command);
- the blob PUT alone (the CLI's own HTTP code, in this process, the same file
  again, so the server hashes, writes, fsyncs and renames it again) against the
  floor: a raw PUT of the same file, by the same code, to a trivial WSGI app
  under gunicorn with the scheduler's settings, which reads the body 1 MiB at
  a time and drops it; and `cp` + fsync of the file on the storage's disk;
  median of 3 interleaved rounds;
- `plan-exec` of the same plan again: bytes the CLI sent (through a counting
  proxy) and wall time;
- the client's peak RSS (rusage at exit); the peak RSS (VmHWM) of each
  gunicorn API worker and of the API arbiter, before and after. The ratio of
  peaks between 200 MB and 20 MB shows whether memory stays flat.

    .venv/bin/python bench/upload.py [--sizes 20,200] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    free_port,
    machine,
    median,
    proc_status,
    scheduler,
    table,
    wait_for,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fastpath.cli.client import Client  # noqa: E402
from fastpath.sched.server import Settings  # noqa: E402
from tests.e2e.proxy import CountingProxy  # noqa: E402

FASTPATH = str(Path(sys.executable).parent / "fastpath")
MB = 1024 * 1024
ROUNDS = 5


# --- the floor: a trivial WSGI app under the scheduler's gunicorn settings (own process) ---


def serve_trivial(port: int) -> None:
    from gunicorn.app.base import BaseApplication

    defaults = Settings.__dataclass_fields__

    def app(environ, start_response):
        stream, left = environ["wsgi.input"], int(environ.get("CONTENT_LENGTH") or 0)
        while left > 0 and (chunk := stream.read(min(left, MB))):
            left -= len(chunk)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"status": "success"}']

    class Trivial(BaseApplication):
        def load_config(self) -> None:
            options = {"bind": f"127.0.0.1:{port}", "workers": defaults["workers"].default,
                       "worker_class": "gthread", "threads": defaults["threads"].default,
                       "timeout": 120, "graceful_timeout": 5, "control_socket_disable": True,
                       "loglevel": "warning"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Trivial().run()


def put(url: str, token: str, path: str, file: Path) -> float:
    """Seconds for one PUT of `file` by the CLI's HTTP client (1 MiB chunks, streamed)."""
    client = Client(url, token, timeout=300)
    size = file.stat().st_size

    def chunks():
        with file.open("rb") as f:
            while chunk := f.read(MB):
                yield chunk

    start = time.perf_counter()
    client.stream("PUT", path, chunks(), size, "application/octet-stream")
    return time.perf_counter() - start


def cp_fsync(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    shutil.copyfile(src, dst)
    with dst.open("rb+") as f:
        os.fsync(f.fileno())
    took = time.perf_counter() - start
    dst.unlink()
    return took


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


def plan_exec(sched, plan: Path, url: str | None = None) -> tuple[float, int, str]:
    """(seconds, the client's peak RSS in kB, its last line) of one `plan-exec`."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(sched.config)}
    start = time.perf_counter()
    child = subprocess.Popen([FASTPATH, "sched", "plan-exec", str(plan), "--no-publish",
                              *(["--url", url] if url else [])],
                             env=env, cwd=plan.parent, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - start
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.read().decode(), child.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"plan-exec failed ({status}): {out}\n{err}")
    return took, usage.ru_maxrss, (out.strip().splitlines() or [""])[-1]


def measure(tmp: Path, size_mb: int) -> dict:
    work = tmp / f"{size_mb}mb"
    work.mkdir()
    plan = setup(work, size_mb)
    kernel = work / "Image"
    port = free_port()
    trivial = subprocess.Popen([sys.executable, __file__, "--serve-trivial", str(port)])
    try:
        with scheduler(work, extra=["--max-upload", "1G"]) as sched:
            token = sched.login()
            wait_for(lambda: _answers(port), 30, 0.1, "the trivial server")
            arbiter, workers = api_processes(sched.proc.pid)
            if not workers:
                raise SystemExit("no gunicorn API worker found")
            before = {p: proc_status(p, "VmHWM") for p in workers}
            load_before = os.getloadavg()[0]
            took, client_kb, said = plan_exec(sched, plan)
            after = {p: proc_status(p, "VmHWM") for p in workers}
            stored = sum(f.stat().st_size for f in (work / "sched_storage" / "blobs").rglob("*")
                         if f.is_file())
            proxy = CountingProxy(sched.port)
            try:
                again, _, _ = plan_exec(sched, plan, proxy.url)
                resent = proxy.sent
            finally:
                proxy.close()
            blob, raw, cp = [], [], []
            digest = "sha256:" + _sha256(kernel)
            for _ in range(ROUNDS):  # interleaved: the machine's load hits all three alike
                blob.append(put(sched.url, token, f"/blobs/{digest}", kernel))
                raw.append(put(f"http://127.0.0.1:{port}", token, "/raw", kernel))
                cp.append(cp_fsync(kernel, work / "sched_storage" / "cp-copy"))
            load_after = os.getloadavg()[0]
    finally:
        trivial.terminate()
        trivial.wait(15)
    return {"size": size_mb, "seconds": took, "client_kb": client_kb,
            "workers_before": max(before.values()), "workers_after": max(after.values()),
            "worker_growth": max(after[p] - before[p] for p in workers),
            "arbiter_kb": proc_status(arbiter, "VmHWM") if arbiter else 0,
            "stored_mb": stored / MB, "out": said, "again": again, "resent": resent,
            "blob": median(blob), "raw": median(raw), "cp": median(cp),
            "load": (load_before, load_after)}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MB):
            h.update(chunk)
    return h.hexdigest()


def _answers(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,200", help="file sizes in MB, smallest first")
    parser.add_argument("--quick", action="store_true", help="2 MB and 20 MB")
    parser.add_argument("--serve-trivial", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        return serve_trivial(args.serve_trivial)
    sizes = [2, 20] if args.quick else [min(max(int(s), 1), 2000) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        results = [measure(Path(tmp), size) for size in sizes]

    print(f"plan-exec upload of a random kernel file, one fresh scheduler per size ({machine()})")
    table(["file MB", "plan-exec s", "MB/s", "client peak RSS MB", "API worker peak RSS MB",
           "worker peak before MB", "worker growth MB", "stored MB", "load"],
          [[r["size"], f"{r['seconds']:.2f}", f"{r['size'] / r['seconds']:.1f}",
            f"{r['client_kb'] / 1024:.1f}", f"{r['workers_after'] / 1024:.1f}",
            f"{r['workers_before'] / 1024:.1f}", f"{r['worker_growth'] / 1024:.1f}",
            f"{r['stored_mb']:.1f}", f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"] for r in results])
    print(f"\nthe PUT alone vs its floors, median of {ROUNDS} interleaved rounds (MB/s)")
    table(["file MB", "blob PUT", "raw PUT (trivial gunicorn)", "cp + fsync", "blob / raw",
           "plan-exec / raw", "blob / cp"],
          [[r["size"], f"{r['size'] / r['blob']:.0f}", f"{r['size'] / r['raw']:.0f}",
            f"{r['size'] / r['cp']:.0f}", f"{r['raw'] / r['blob']:.2f}",
            f"{r['raw'] / r['seconds']:.2f}", f"{r['cp'] / r['blob']:.2f}"] for r in results])
    print("\nthe same plan submitted again")
    table(["file MB", "plan-exec s", "bytes sent"],
          [[r["size"], f"{r['again']:.2f}", r["resent"]] for r in results])
    small, big = results[0], results[-1]
    print(f"\npeak RSS ratio {big['size']} MB / {small['size']} MB: client "
          f"{big['client_kb'] / small['client_kb']:.2f}x, API worker "
          f"{big['workers_after'] / small['workers_after']:.2f}x (file {big['size'] / small['size']:.0f}x)")
    print(f"plan-exec said: {big['out']}")


if __name__ == "__main__":
    main()
