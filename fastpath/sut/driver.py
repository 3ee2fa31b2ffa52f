"""A job's benchmark runs on a SUT: a per-job directory and a detached driver.

The driver is a POSIX shell script started with `setsid nohup`: it survives
the SSH connection and the scheduler, and runs each benchmark container in
turn under `timeout`. Each run has its own directory: `share/` (mounted at
/fastpath-share: benchmark.yaml in, results.csv out), `output.log`, a
`started` mark written before the container starts and an `exit` file
written after it ends. A run with `started` but no `exit` is never started
again (it is reported as interrupted), and only one driver runs at a time
(flock), so a restarted scheduler re-attaches to a job instead of re-running it.
"""

from __future__ import annotations

import base64
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from fastpath.sut.remote import Remote

ROOT = ".fastpath"  # under the login's home, then one directory per SUT: homes may be shared (NFS)
INTERRUPTED = "interrupted"
CAPS = {"results.csv": 1024 * 1024, "output.log": 4 * 1024 * 1024, "starts.log": 64 * 1024}

DRIVER = r"""#!/bin/sh
# fastpath job driver: runs this job's benchmark containers one after the other.
cd "$(dirname "$0")" || exit 1
exec 9>driver.lock
flock -n 9 || { echo "$(date +%s) $$: another driver runs this job"; exit 0; }
echo $$ > driver.pid  # setsid made it a session leader: its pid is the session id
echo "$(date +%s) $$: driver started"
for run in runs/*; do
  [ -e "$run/exit" ] && continue
  if [ -e "$run/started" ]; then  # it started once already: never start it twice
    echo "$(date +%s) $$: $run was interrupted; not starting it again"
    echo interrupted > "$run/exit.tmp" && mv "$run/exit.tmp" "$run/exit"
    continue
  fi
  name="fastpath-$(basename "$PWD")-$(basename "$run")"
  date +%s > "$run/started"
  echo "$(date +%s) $$: starting $run"
  timeout -k 10 "$(cat "$run/timeout")" RUNTIME run --rm PULL --name "$name" \
    -v "$PWD/$run/share:/fastpath-share" "$(cat "$run/image")" > "$run/output.log" 2>&1
  code=$?
  # --rm removed it, unless the run was killed (a timeout): then remove it here
  [ "$code" = 0 ] || RUNTIME rm -f "$name" > /dev/null 2>&1
  echo "$code" > "$run/exit.tmp" && mv "$run/exit.tmp" "$run/exit"
done
"""

POLL = r"""
cd {dir} 2>/dev/null || {{ echo missing; exit 0; }}
cat /proc/sys/kernel/random/boot_id
if flock -n driver.lock true 2>/dev/null; then echo stopped; else echo alive; fi
for r in runs/*; do
  [ -d "$r" ] || continue
  if [ -e "$r/exit" ]; then state=$(cat "$r/exit")
  elif [ -e "$r/started" ]; then state=running
  else state=-; fi
  printf '%s %s\n' "${{r#runs/}}" "$state"
done
"""


@dataclass(frozen=True)
class RunSpec:
    index: int
    image: str
    timeout: float
    benchmark_yaml: str  # what the container finds at /fastpath-share/benchmark.yaml


@dataclass(frozen=True)
class Status:
    present: bool  # the job directory exists
    boot_id: str
    driver_alive: bool
    runs: dict[int, str]  # index -> exit code, "running", INTERRUPTED or "-" (not started)

    @property
    def finished(self) -> bool:
        return self.present and all(v not in ("running", "-") for v in self.runs.values())


def job_path(sut: str, job_id: int, attempt: int, nonce: str | None) -> str:
    """The job's directory, relative to the login's home; SUT names are [A-Za-z0-9._-].

    The nonce, drawn when the job was assigned, keeps apart jobs of the same id and attempt
    from another scheduler database (a reinstall, a second lab, a test run): a leftover
    directory of theirs must never pass for this job's own, nor their containers' names.
    Jobs assigned by a release without nonces (None) keep the directory they started in.
    """
    path = f"{ROOT}/{sut}/job-{int(job_id)}-a{int(attempt)}"
    if nonce is None:
        return path
    if not re.fullmatch(r"[0-9a-f]{1,32}", nonce):
        raise ValueError(f"job nonce {nonce!r}: expected hex digits")
    return f"{path}-{nonce}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def prepare(remote: Remote, path: str, runs: list[RunSpec], runtime: str, *,
            pull: bool = False, check_runtime: bool = False) -> None:
    """Create the job directory and its runs; runs that already exist are left alone.

    Images are never pulled (`--pull=never`: a SUT must not reach out to a public registry)
    unless `pull`, for a class that names a registry of its own. `check_runtime` first
    checks that the container runtime answers (`<runtime> info`), in the same command.
    """
    rt = shlex.quote(runtime)
    driver = DRIVER.replace("RUNTIME", rt)
    driver = driver.replace("PULL", "--pull=missing" if pull else "--pull=never")
    lines = [f"{rt} info > /dev/null || {{ echo 'the container runtime does not answer: "
             f"{rt} info failed' >&2; exit 1; }}"] if check_runtime else []
    lines += ["set -e", f"mkdir -p {path}/runs", f"cd {path}",
              f"echo {_b64(driver)} | base64 -d > driver.sh.tmp && mv driver.sh.tmp driver.sh"]
    for run in runs:
        d = f"runs/{run.index:04d}"
        lines.append(
            f"if [ ! -e {d}/image ]; then mkdir -p {d}/share && "
            f"echo {_b64(run.benchmark_yaml)} | base64 -d > {d}/share/benchmark.yaml && "
            f"echo {shlex.quote(str(int(run.timeout)))} > {d}/timeout && "
            f"printf %s {shlex.quote(run.image)} > {d}/image; fi"
        )
    remote.run("\n".join(lines), timeout=120)


def start(remote: Remote, path: str) -> None:
    """Start the driver detached, unless one is running (it takes a lock)."""
    remote.run(f"cd {path} && setsid nohup sh driver.sh > driver.log 2>&1 < /dev/null &", timeout=30)


def poll(remote: Remote, path: str) -> Status:
    lines = remote.run(POLL.format(dir=path), timeout=30).stdout.splitlines()
    if not lines or lines[0] == "missing":
        return Status(False, "", False, {})
    runs = {}
    for line in lines[2:]:
        index, _, value = line.partition(" ")
        if index.isdigit():
            runs[int(index)] = value.strip()
    return Status(True, lines[0].strip(), lines[1].strip() == "alive", runs)


def collect(remote: Remote, path: str, indexes: list[int], into: Path) -> None:
    """Copy each run's exit, results, output and starts into `into/runs/NNNN/`.

    Regular files only (no symlink is followed), at fixed names inside the job
    directory, each capped in size (logs keep their end).
    """

    def fetch(sftp) -> None:
        _copy(sftp, f"{path}/driver.log", into / "driver.log", CAPS["output.log"])
        for index in indexes:
            local = into / "runs" / f"{index:04d}"
            local.mkdir(parents=True, exist_ok=True)
            base = f"{path}/runs/{index:04d}"
            for name, remote_name in (("exit", "exit"), ("results.csv", "share/results.csv"),
                                      ("output.log", "output.log"), ("starts.log", "share/starts.log")):
                _copy(sftp, f"{base}/{remote_name}", local / name, CAPS.get(name, 4096))

    remote.sftp(fetch)


def _copy(sftp, remote_path: str, local: Path, cap: int) -> None:
    try:
        st = sftp.lstat(remote_path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        local.with_name(local.name + ".refused").write_text("not a regular file\n")
        return
    with sftp.open(remote_path, "rb") as f:
        if st.st_size > cap:
            f.seek(st.st_size - cap)
        data = f.read(cap)
    local.write_bytes(data)


def remove(remote: Remote, path: str) -> None:
    remote.run(f"rm -rf {path}", timeout=60)


def clear_stale(remote: Remote, keep: str, runtime: str) -> None:
    """Stop and remove what earlier fastpath jobs left on this SUT: drivers, containers, dirs."""
    remote.run(clear_stale_script(keep, runtime), timeout=120)


def clear_stale_script(keep: str, runtime: str) -> str:
    """The script of `clear_stale`, to run as part of another command; it prints nothing.

    A SUT is held by one job at a time, so anything else of ours on it is a
    leftover (a job that lost its SUT mid-run) that would disturb this job's
    measurements. Only job directories of this SUT are touched.
    """
    rt = shlex.quote(runtime)
    mine = keep.rsplit("/", 1)[0]
    return f"""
mkdir -p {mine}
for d in {mine}/job-*; do
  [ -d "$d" ] || continue
  [ "$d" = {keep} ] && continue
  pid=$(cat "$d/driver.pid" 2>/dev/null)
  # kill the driver's whole session, but only if that pid is still our driver
  if [ -n "$pid" ] && [ "$(readlink /proc/$pid/cwd 2>/dev/null)" = "$(cd "$d" && pwd -P)" ]; then
    pkill -KILL -s "$pid" 2>/dev/null
  fi
  for c in $({rt} ps -a --format '{{{{.Names}}}}' 2>/dev/null | grep "^fastpath-$(basename $d)-"); do
    {rt} rm -f "$c" > /dev/null 2>&1
  done
  rm -rf "$d"
done
true
"""
