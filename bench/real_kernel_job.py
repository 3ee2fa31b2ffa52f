"""How long each step of a real-kernel job takes: a real scheduler kexecs the QEMU guest.

    .venv/bin/python bench/real_kernel_job.py [--runs N]

Starts the test lab's QEMU guest (fastpath.testbed.vm; the image is built
once and cached), a real `fastpath sched run` with a `boot: kexec` class for
it, and submits plans of one job each: the guest's second kernel, its initrd
and modules archive, one busyloop run. The job records each step before it
starts it (`job.step`); this polls the API every 0.1 s and prints the time
spent in each step. Separately it times the two halves of `stage` (upload,
install modules) by calling them directly against the guest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from fastpath.testbed import vm as vmmod  # noqa: E402
from tests.e2e.scheduler import Scheduler  # noqa: E402

STEPS = [("connect", "connect + fingerprint"), ("stage", "stage: upload + install modules"),
         ("boot", "boot: kexec -l + trigger"), ("wait_boot", "kexec to SSH-ready + verify"),
         ("prepare", "prepare (podman info, job dir)"), ("run", "benchmark (1 busyloop run)"),
         ("collect", "collect results"), ("cleanup", "cleanup + free the SUT")]
TUNING = ("probe_interval=10,fresh=3,backoff_base=2,backoff_cap=4,job_poll_min=0.2,"
          "job_poll_max=0.5,boot_poll=0.5,unreachable_grace=30")


def job_steps(client, plan_id: int, timeout: float = 900) -> tuple[dict, dict[str, float]]:
    """Poll the plan until its job ends; seconds spent in each recorded step."""
    spent: dict[str, float] = {}
    last_step, since = None, time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/plans/{plan_id}")["plan"]["jobs"][0]
        now = time.monotonic()
        step = job["step"] if job["state"] in ("assigned", "running") else job["state"]
        if step != last_step:
            if last_step is not None:
                spent[last_step] = spent.get(last_step, 0.0) + now - since
            last_step, since = step, now
        if job["state"] in ("completed", "failed", "cancelled"):
            return job, spent
        time.sleep(0.1)
    raise SystemExit(f"plan {plan_id} did not finish in {timeout:g}s")


def stage_halves(guest: vmmod.VirtualSut, files: dict[str, Path], release: str) -> tuple[float, float]:
    """Upload and module install, timed apart, into a scratch directory on the guest."""
    from fastpath.sut import boot
    from fastpath.sut.remote import Remote

    remote = Remote.connect(guest.target())
    try:
        remote.run("rm -rf /root/bench-stage")
        t0 = time.monotonic()
        boot.stage(remote, files, "/root/bench-stage")
        t1 = time.monotonic()
        boot.install_modules(remote, "/root/bench-stage/modules.tar", release, 0)
        t2 = time.monotonic()
        remote.run("rm -rf /root/bench-stage")
    finally:
        remote.close()
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="jobs to time (one plan each)")
    args = parser.parse_args()
    t0 = time.monotonic()
    image = vmmod.build(log=lambda m: print(m, file=sys.stderr))
    print(f"image ready in {time.monotonic() - t0:.1f} s ({image.dir})")
    work = Path(tempfile.mkdtemp(prefix="fastpath-bench-vm-"))
    guest = vmmod.VirtualSut(work / "vm", image)
    sched = None
    try:
        t0 = time.monotonic()
        guest.start()
        guest.wait_ssh(timeout=300)
        print(f"guest answers SSH {time.monotonic() - t0:.1f} s after QEMU starts (cold boot)")
        guest.write_sutclasses(work / "sutclasses.yaml", boot_timeout="300s")
        os.environ["FASTPATH_TUNING"] = TUNING
        sched = Scheduler(work)
        sched.start()
        token = sched.login()
        client = sched.client(token)
        other = image.other
        files = {}
        for key, src in (("kernel", image.kernel(other)), ("initrd", image.initrd(other)),
                         ("modules", image.modules(other))):
            shutil.copy(src, work / src.name)
            files[key] = src.name
        doc = {"sut": {"sutclass": "vm"},
               "swprofiles": [{"name": "candidate", **files, "cmdline": ["fastpath.bench=1"]}],
               "benchmarks": [{"include": "testing/busyloop.yaml", "params": {"duration": 0.2}}],
               "defaults": {"benchmark": {"warmups": 0, "repeats": 1, "sessions": 1}}}
        (work / "plan.yaml").write_text(yaml.safe_dump(doc))
        figures: dict[str, list[float]] = {}
        for i in range(1, args.runs + 1):
            sched.cli("sched", "plan-exec", str(work / "plan.yaml"))
            job, spent = job_steps(client, i)
            if job["state"] != "completed":
                raise SystemExit(f"job failed: {json.dumps(job)}")
            for step, seconds in spent.items():
                figures.setdefault(step, []).append(seconds)
        upload, install = stage_halves(guest, {
            "kernel": image.kernel(other), "initrd": image.initrd(other),
            "modules.tar": image.modules(other)}, other)
    finally:
        if sched is not None:
            import signal

            sched.stop(signal.SIGTERM)
        guest.stop()
    sizes = sum(p.stat().st_size for p in (image.kernel(other), image.initrd(other),
                                           image.modules(other)))
    print(f"\nreal-kernel job on the QEMU guest (TCG), median of {args.runs} job(s), seconds:")
    total = 0.0
    for step, label in STEPS:
        values = figures.get(step, [])
        if values:
            median = statistics.median(values)
            total += median
            print(f"  {label:40s} {median:7.1f}   ({', '.join(f'{v:.1f}' for v in values)})")
    print(f"  {'total (assigned to done)':40s} {total:7.1f}")
    print(f"\nstage, timed apart on the guest ({sizes / 1e6:.1f} MB of kernel, initrd, modules):")
    print(f"  {'upload (SFTP)':40s} {upload:7.1f}")
    print(f"  {'install modules (tar -x + depmod)':40s} {install:7.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
