"""What the scheduler benchmarks share: loopback SUTs, a real scheduler, cleanup. Not a benchmark.

Test SUTs are the testbed's OpenSSH servers (`boot: none`, no simulated boots:
no root needed) on loopback addresses of their own; the scheduler is a real
`fastpath sched run` subprocess (tests/e2e/scheduler.py), its database a
SQLite file read here directly, read-only, so that measuring costs the API
nothing.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from fastpath.testbed import Testbed  # noqa: E402
from tests.e2e.scheduler import Scheduler  # noqa: E402

IMAGE = "localhost/fastpath-bench-busyloop:1"
FINAL = ("completed", "failed", "cancelled")


def free_ports(addresses: list[str], tries: int = 50) -> int:
    """A first port such that address i can listen on first + i, for every address."""
    for _ in range(tries):
        first = random.randrange(30000, 45000)
        ok = True
        for i, address in enumerate(addresses):
            with socket.socket() as s:
                try:
                    s.bind((address, first + i))
                except OSError:
                    ok = False
                    break
        if ok:
            return first
    raise SystemExit("no free block of ports on the loopback addresses")


def testbed(root: Path, count: int, prefix: str, net: str) -> Testbed:
    """`count` sshd's on `net`.1, .2, ... (e.g. 127.0.11), started."""
    from fastpath.benchmarks.images import build_busyloop

    build_busyloop()
    addresses = [f"{net}.{i + 1}" for i in range(count)]
    bed = Testbed(root, count, prefix=prefix, first_address=addresses[0],
                  first_port=free_ports(addresses), simulate_boot=False)
    bed.start()
    return bed


def stop_testbed(bed: Testbed) -> None:
    """Stop the sshd's, their sessions, and whatever of ours they left running."""
    remove_containers([s.name for s in bed.suts])
    for sut in bed.suts:
        sut.stop()
    mine = str(bed.root).encode()
    for entry in os.listdir("/proc"):  # session sshd's of our listeners (their config is ours)
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"sshd" in cmd and mine in cmd:
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except ProcessLookupError:
                    pass
    home = Path.home() / ".fastpath"
    for sut in bed.suts:
        subprocess.run(["rm", "-rf", str(home / sut.name)], check=False)


def remove_containers(sut_names: list[str]) -> int:
    """Remove the benchmark containers whose job directory belongs to one of these SUTs."""
    from fastpath.benchmarks.images import _env

    names = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                           text=True, env=_env()).stdout.split()
    removed = 0
    marks = [f"/.fastpath/{n}/" for n in sut_names]
    for name in names:
        if not name.startswith("fastpath-job-"):
            continue
        mounts = subprocess.run(["podman", "inspect", "--format",
                                 "{{range .Mounts}}{{.Source}} {{end}}", name],
                                capture_output=True, text=True, env=_env()).stdout
        if any(m in mounts for m in marks):
            subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, env=_env())
            removed += 1
    return removed


class Lab:
    """A testbed of `count` SUTs in class `demo` (boot: none) and a scheduler over it."""

    def __init__(self, workdir: Path, count: int, *, prefix: str, net: str,
                 tuning: str | None = None) -> None:
        self.workdir = workdir
        self.bed = testbed(workdir / "testbed", count, prefix, net)
        self.bed.write_sutclasses(workdir / "sutclasses.yaml", "demo", boot="none")
        self.sched = Scheduler(workdir)
        env = {"FASTPATH_TUNING": tuning} if tuning else {}
        self.sched.start(env=env)
        self.sched.login()
        self._offset_ids(workdir / "scheduler.db")
        self.db = sqlite3.connect(f"file:{workdir}/scheduler.db?mode=ro", uri=True, timeout=30)

    @staticmethod
    def _offset_ids(path: Path) -> None:
        """Start job ids at a random offset: the job driver names containers after the job id
        (fastpath-job-ID-aN-RUN), so on a host shared with other schedulers (tests, other
        benches) job 1 of each would collide. A cancelled placeholder plan and job hold the
        offset; nothing acts on them."""
        offset = random.randrange(10**6, 10**7)
        with sqlite3.connect(path, timeout=30) as conn:
            user = conn.execute("SELECT MIN(id) FROM user").fetchone()[0]
            cls = conn.execute("SELECT MIN(id) FROM sut_class").fetchone()[0]
            conn.execute(
                "INSERT INTO plan (id, user_id, sutclass_id, state, priority, publish, "
                "cancel_requested, document, total_jobs, queued_at) "
                "VALUES (?, ?, ?, 'cancelled', 5, 0, 1, '{}', 0, 0)", (offset, user, cls))
            conn.execute(
                "INSERT INTO job (id, plan_id, sutclass_id, user_id, swprofile, session, state, "
                "priority, attempts, boot_failures, publish_failures, results, errors, queued_at) "
                "VALUES (?, ?, ?, ?, 0, 1, 'cancelled', 5, 0, 0, 0, 0, 0, 0)", (offset, offset, cls, user))
        conn.close()

    def close(self) -> None:
        try:
            self.db.close()
            self.sched.stop(signal.SIGTERM, timeout=30)
        finally:
            if self.sched.proc and self.sched.proc.poll() is None:
                os.killpg(self.sched.proc.pid, signal.SIGKILL)
            stop_testbed(self.bed)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the scheduler's children, by verb (controller, api)."""
        out = {}
        for pid in children(self.sched.proc.pid):
            cmd = cmdline(pid)
            verb = "controller" if " controller" in cmd else "api" if " api" in cmd else "other"
            out[verb] = out.get(verb, 0.0) + cpu_seconds(pid, reaped=True)
        return out

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.db.execute("SELECT COUNT(*) FROM sut WHERE health = 'healthy'").fetchone()[0]
            if n == len(self.bed.suts):
                return
            time.sleep(0.2)
        raise SystemExit(f"the SUTs did not all become healthy in {timeout}s")

    def submit(self, name: str, *, swprofiles: int, sessions: int, params: dict) -> int:
        """A plan of swprofiles x sessions busyloop jobs, 0 warmups, 1 repeat; its id."""
        doc = {"sut": {"sutclass": "demo"},
               "swprofiles": [{"name": f"sw{i}"} for i in range(swprofiles)],
               "benchmarks": [{"include": "testing/busyloop.yaml", "params": params}],
               "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": sessions,
                                          "timeout": "1h"}}}
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out = self.sched.cli("sched", "plan-exec", "--no-publish", str(path)).stdout
        return int(out.split()[1])

    def ended_early(self, plan_id: int) -> list[str]:
        """Why jobs of the plan ended: state, and their error or the first benchmark error."""
        rows = self.db.execute("SELECT id, state, errors, last_error FROM job WHERE plan_id = ? AND "
                               "state IN ('completed', 'failed', 'cancelled')", (plan_id,)).fetchall()
        return [f"job {i} {st} errors={e} {err or ''}".strip() for i, st, e, err in rows]

    def plan_state(self, plan_id: int) -> str:
        return self.db.execute("SELECT state FROM plan WHERE id = ?", (plan_id,)).fetchone()[0]

    def wait_plan(self, plan_id: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.plan_state(plan_id)
            if state in FINAL:
                return state
            time.sleep(0.2)
        raise SystemExit(f"plan {plan_id} did not finish in {timeout:.0f}s")

    def jobs(self, plan_id: int) -> list[dict]:
        """Each job of the plan with its recorded times: assigned, running (from the event log),
        finished."""
        rows = self.db.execute(
            "SELECT j.id, j.state, j.assigned_at, j.finished_at, j.attempts, s.name, "
            "(SELECT GROUP_CONCAT(e.detail, '; ') FROM event e WHERE e.kind = 'job' AND e.ref = j.id "
            "AND e.new = 'queued' AND e.old IS NOT NULL), "
            "(SELECT MAX(e.at) FROM event e WHERE e.kind = 'job' AND e.ref = j.id AND e.new = 'running') "
            "FROM job j LEFT JOIN sut s ON s.id = j.sut_id WHERE j.plan_id = ? ORDER BY j.id",
            (plan_id,)).fetchall()
        keys = ("id", "state", "assigned", "finished", "attempts", "sut", "error", "running")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def bare_ssh(bed: Testbed, n: int) -> list[float]:
    """Seconds of `ssh -i KEY -p PORT user@host true` to the first SUT, n times."""
    sut = bed.suts[0]
    argv = ["ssh", "-i", str(bed.keyfile), "-p", str(sut.port), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", f"{sut.user}@{sut.host}", "true"]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=30)
        out.append(time.perf_counter() - t)
    return out


def bare_container(bed: Testbed, n: int, params: dict) -> list[float]:
    """Seconds of the benchmark container alone (`podman run --rm`, as the job driver runs it,
    with the SUT's containers.conf), n times."""
    share = bed.root / "bare-share"
    share.mkdir(exist_ok=True)
    doc = {"suite": "testing", "name": "busyloop", "type": "container", "image": IMAGE,
           "params": params}
    (share / "benchmark.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {**os.environ, "CONTAINERS_CONF": str(bed.suts[0].dir / "containers.conf")}
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["podman", "run", "--rm", "-v", f"{share}:/fastpath-share", IMAGE],
                       check=True, capture_output=True, env=env, timeout=120)
        out.append(time.perf_counter() - t)
    return out


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """utime + stime of one process, in seconds (with `reaped`, plus its waited-for children's)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]
