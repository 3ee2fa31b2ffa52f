"""Running a job on its SUT, one recorded step at a time.

The controller calls `JobRunner.run(job_id)` whenever the job is due. Each
call performs the step recorded on the job (`job.step`) and records the next
one before acting on it, so a controller killed at any instant resumes at the
right step, and every step is safe to run twice:

    connect -> [stage] -> boot -> wait_boot -> [setup] -> prepare -> run -> collect -> cleanup

Failures are classified by who is to blame (DESIGN §3): an SSH failure
re-queues the job and marks the SUT unhealthy; a boot that fails re-queues
it once (on another SUT when the class has one) after returning the SUT to
its own kernel; a fault of the plan (its bootscript fails, or it would
touch the scheduler's own host) fails the job.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from fastpath.control import failpoints, prober
from fastpath.core import manifest
from fastpath.core.states import HOLDING_JOB, JobState
from fastpath.errors import FastpathError
from fastpath.plan.split import JobSpec, runs
from fastpath.store.files import Storage
from fastpath.store.models import Job, Plan, Sut
from fastpath.store.queries import inventory, jobs, plans, suts
from fastpath.sut import boot, driver, facts
from fastpath.sut.boot import BootFailure
from fastpath.sut.remote import Remote, SshError, Unreachable

log = logging.getLogger(__name__)


class PlanFault(FastpathError):
    """The plan cannot run as written; retrying would not help."""


@dataclass
class Ctx:
    job: Job
    plan: Plan
    sut: Sut
    now: float

    @property
    def swprofile(self) -> dict:
        return self.plan.document["swprofiles"][self.job.swprofile]

    @property
    def params(self) -> dict:
        return self.sut.params

    @property
    def progress(self) -> dict:
        return dict(self.job.progress or {})

    @property
    def path(self) -> str:
        return driver.job_path(self.sut.name, self.job.id, self.job.attempts, self.progress.get("nonce"))

    @property
    def boots(self) -> bool:
        return self.params["boot"] != "none" and bool(self.swprofile.get("kernel"))


def this_host() -> dict:
    """The scheduler host's own identity, to recognise a SUT that is this very machine."""
    def read(path: str) -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""

    return {"machine_id": read("/etc/machine-id"), "boot_id": read("/proc/sys/kernel/random/boot_id")}


class JobRunner:
    def __init__(self, controller, storage: Storage, *, publish_to: str | None,
                 clock: Callable[[], float] = time.time, power: Callable = subprocess.run,
                 host: dict | None = None) -> None:
        self.ctl, self.storage, self.publish_to = controller, storage, publish_to
        self.clock, self.power = clock, power
        self.host = host or this_host()
        t = controller.tuning
        self.poll_min, self.poll_max = t.job_poll_min, t.job_poll_max
        self.grace, self.boot_poll = t.unreachable_grace, t.boot_poll
        self.steps = {"connect": self.connect, "stage": self.stage, "boot": self.boot,
                      "wait_boot": self.wait_boot, "setup": self.setup, "prepare": self.prepare,
                      "run": self.poll, "collect": self.collect, "cleanup": self.cleanup}

    # --- the controller's interface -------------------------------------------

    def due(self, now: float) -> list[int]:
        return jobs.jobs_due(now)

    def run(self, job_id: int) -> None:
        job = jobs.get_job(job_id)
        if job.state not in HOLDING_JOB or job.step not in self.steps:
            return
        ctx = Ctx(job, plans.get_plan(job.plan_id), suts.get_sut(job.sut_id), self.clock())
        failpoints.reach(f"before-{job.step}")
        try:
            self.steps[job.step](ctx)
        except BootFailure as exc:
            self._boot_failed(ctx, exc.message)
        except PlanFault as exc:
            log.warning("job %s failed: %s", job.id, exc.message)
            with self.ctl.fence():
                jobs.finish_job(job, JobState.FAILED, self.clock(), publish=False,
                                   reason=exc.message)
        except SshError as exc:
            self._infrastructure_failed(ctx, exc.message)

    # --- recording --------------------------------------------------------------

    def _next(self, ctx: Ctx, step: str, *, after: float = 0.0, **progress) -> bool:
        """Record the next step (and progress) before acting on it."""
        if step != ctx.job.step:
            failpoints.reach(f"after-{ctx.job.step}")
        merged = {**ctx.progress, **progress}
        fields = {"session_id": merged["session_id"]} if merged.get("session_id") else {}
        with self.ctl.fence():
            return jobs.record_step(ctx.job, step, self.clock(), progress=merged,
                                       due_at=self.clock() + after, **fields)

    def _remote(self, ctx: Ctx) -> Remote:
        return prober.connect(ctx.sut, self.ctl.connections)

    # --- steps -------------------------------------------------------------------

    def connect(self, ctx: Ctx) -> None:
        remote = self._remote(ctx)
        seen = facts.boot_facts(remote)
        fingerprint = facts.fingerprint(remote)
        is_self = (bool(seen["machine_id"]) and seen["machine_id"] == self.host["machine_id"]) or (
            seen["boot_id"] == self.host["boot_id"])
        self._guard(ctx, is_self)
        runtime = ctx.params["container_runtime"]
        driver.clear_stale(remote, ctx.path, runtime)
        with self.ctl.fence():
            jobs.start_running(ctx.job, self.clock())
        progress = dict(uid=seen["uid"], boot_id=seen["boot_id"], fingerprint=fingerprint,
                        is_self=is_self, kernel_name=seen["release"])
        if not ctx.boots:  # a session without a reboot: a fresh run on the SUT's own kernel
            progress["session_id"] = str(uuid.uuid4())
            self._next(ctx, "setup" if self._needs_setup(ctx) else "prepare", **progress)
        else:
            self._next(ctx, "stage" if ctx.params["boot"] in ("kexec", "reboot") else "boot",
                       **progress)

    def _needs_setup(self, ctx: Ctx) -> bool:
        return bool(ctx.swprofile.get("sysctl") or ctx.swprofile.get("bootscript"))

    def _guard(self, ctx: Ctx, is_self: bool) -> None:
        """Never install, reconfigure or reboot the machine the scheduler runs on."""
        if not is_self:
            return
        touches = []
        if ctx.boots and ctx.params["boot"] in ("kexec", "reboot"):
            touches.append(f"install and {ctx.params['boot']} a kernel")
        if ctx.swprofile.get("sysctl"):
            touches.append("apply sysctl settings")
        if ctx.swprofile.get("bootscript"):
            touches.append("run a bootscript as root")
        if touches:
            raise PlanFault(
                f"refusing to {' and '.join(touches)} on SUT {ctx.sut.name}: it is the scheduler's "
                "own host (same machine id); use boot: power_cycle or boot: none for such SUTs"
            )

    def _files(self, ctx: Ctx) -> dict[str, Path]:
        sw = ctx.swprofile
        return {name: self.storage.path(sw[key]) for key, name in
                (("kernel", "kernel"), ("initrd", "initrd"), ("modules", "modules.tar"))
                if sw.get(key)}

    def _release(self, ctx: Ctx) -> str | None:
        if not ctx.swprofile.get("modules"):
            return None
        from fastpath.plan.schema import modules_release

        return modules_release(self.storage.path(ctx.swprofile["modules"]))

    def stage(self, ctx: Ctx) -> None:
        remote = self._remote(ctx)
        boot.stage(remote, self._files(ctx), f"{ctx.path}/boot")
        if ctx.swprofile.get("modules"):
            boot.install_modules(remote, f"{ctx.path}/boot/modules.tar", self._release(ctx),
                                 ctx.progress.get("uid"))
        self._next(ctx, "boot")

    def boot(self, ctx: Ctx) -> None:
        p = ctx.progress
        if "session_id" not in p:  # record the session before triggering its boot
            session = str(uuid.uuid4())
            base = ctx.params.get("base_cmdline") or (ctx.sut.facts or {}).get("base_cmdline", "")
            p = dict(session_id=session, cmdline=boot.full_cmdline(
                base, ctx.swprofile.get("cmdline") or [], session), release=self._release(ctx),
                deadline=self.clock() + ctx.params["boot_timeout"], old_boot_id=p["boot_id"])
            self._next(ctx, "boot", **p)
            p = ctx.progress
            failpoints.reach("boot-recorded")
        elif self._booted(ctx, p):  # a crash after the trigger: the boot already happened
            self._next(ctx, "wait_boot")
            return
        self._trigger(ctx, p)
        self.ctl.connections.drop(ctx.sut.name)
        self._next(ctx, "wait_boot", after=self.boot_poll)

    def _booted(self, ctx: Ctx, p: dict) -> bool:
        try:
            seen = facts.boot_facts(self._remote(ctx))
        except SshError:
            return True  # down: it is booting; wait_boot knows the deadline
        return seen["boot_id"] != p["old_boot_id"]

    def _trigger(self, ctx: Ctx, p: dict) -> None:
        kind, files = ctx.params["boot"], self._files(ctx)
        if kind == "power_cycle":
            values = {"name": ctx.sut.name, "host": ctx.sut.host, "port": str(ctx.sut.port),
                      "kernel": str(files.get("kernel", "")), "initrd": str(files.get("initrd", "")),
                      "modules": str(files.get("modules.tar", "")), "cmdline": p["cmdline"],
                      "release": p["release"] or ""}
            boot.power_cycle(ctx.params["power_cycle"], values, run=self.power)
            return
        remote = self._remote(ctx)
        kernel = f"{ctx.path}/boot/kernel"
        initrd = f"{ctx.path}/boot/initrd" if "initrd" in files else None
        if kind == "kexec":
            boot.kexec(remote, kernel, initrd, p["cmdline"], p.get("uid"))
        else:
            boot.reboot(remote, kernel, initrd, p["cmdline"], p["session_id"], p.get("uid"))

    def wait_boot(self, ctx: Ctx) -> None:
        p = ctx.progress
        target = prober.target(ctx.sut)
        try:
            # one try per poll; a slow SUT (a loaded VM) may take many seconds for its banner
            remote = Remote.connect(target, timeout=15, attempts=1)
            try:
                seen = facts.boot_facts(remote)
            finally:
                remote.close()
        except Unreachable:
            seen = None
        if seen is None or seen["boot_id"] == p["old_boot_id"]:
            if self.clock() > p["deadline"]:
                raise BootFailure(f"the SUT did not come back within {ctx.params['boot_timeout']:g}s "
                                  "of its boot")
            with self.ctl.fence():
                jobs.record_step(ctx.job, "wait_boot", self.clock(),
                                    due_at=self.clock() + self.boot_poll)
            return
        boot.verify(seen, p["old_boot_id"], p["cmdline"], p["release"])
        self._next(ctx, "setup" if self._needs_setup(ctx) else "prepare", boot_id=seen["boot_id"],
                   kernel_name=seen["release"])

    def setup(self, ctx: Ctx) -> None:
        remote = self._remote(ctx)
        s = boot.sudo(ctx.progress.get("uid"))
        script = [f"{s}sysctl -w {shlex.quote(entry)} > /dev/null"
                  for entry in ctx.swprofile.get("sysctl") or []]
        if ctx.swprofile.get("bootscript"):
            boot.stage(remote, {"bootscript": self.storage.path(ctx.swprofile["bootscript"])},
                       f"{ctx.path}/boot")
            script.append(f"{s}sh {ctx.path}/boot/bootscript")
        done = remote.run("set -e\n" + "\n".join(script), timeout=1800, check=False)
        if done.status != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise PlanFault(f"the swprofile's sysctl or bootscript failed with status {done.status}: "
                            f"{tail}")
        self._next(ctx, "prepare")

    def _runs(self, ctx: Ctx) -> list:
        return runs(ctx.plan.document, JobSpec(session=ctx.job.session, swprofile=ctx.job.swprofile))

    def prepare(self, ctx: Ctx) -> None:
        remote = self._remote(ctx)
        runtime = ctx.params["container_runtime"]
        driver.check_runtime(remote, runtime)
        benchmarks = ctx.plan.document["benchmarks"]
        specs = []
        for i, r in enumerate(self._runs(ctx)):
            b = benchmarks[r.benchmark]
            specs.append(driver.RunSpec(i, b["image"], b["timeout"], benchmark_yaml(b)))
        driver.prepare(remote, ctx.path, specs, runtime)
        if self._next(ctx, "run", after=self.poll_min, changed_at=self.clock()):
            driver.start(remote, ctx.path)

    def poll(self, ctx: Ctx) -> None:
        p = ctx.progress
        try:
            status = driver.poll(self._remote(ctx), ctx.path)
        except Unreachable as exc:  # the run goes on without us: retry for a while
            since = p.get("unreachable_since") or self.clock()
            if self.clock() - since > self.grace:
                raise
            log.info("job %s: SUT unreachable while polling (%s); retrying", ctx.job.id, exc.message)
            self._next(ctx, "run", after=5.0, unreachable_since=since)
            return
        if not status.present:
            raise Unreachable(f"{ctx.sut.name}: the job's directory vanished from the SUT")
        if status.boot_id != p["boot_id"]:
            raise Unreachable(f"{ctx.sut.name}: the SUT rebooted while the job ran")
        if status.finished:
            self._next(ctx, "collect", unreachable_since=None)
            return
        if not status.driver_alive:  # started (or crashed) before the driver was; it resumes
            log.warning("job %s: driver not running on %s; starting it", ctx.job.id, ctx.sut.name)
            driver.start(self._remote(ctx), ctx.path)
        done = sum(v not in ("running", "-") for v in status.runs.values())
        changed = p.get("changed_at", self.clock()) if done == p.get("done_runs") else self.clock()
        # poll often while runs end quickly, less and less while a long one goes on
        after = min(self.poll_max, max(self.poll_min, (self.clock() - changed) / 4))
        self._next(ctx, "run", after=after, done_runs=done, changed_at=changed, unreachable_since=None)

    def collect(self, ctx: Ctx) -> None:
        remote = self._remote(ctx)
        final = self.storage.job_dir(ctx.plan.id, ctx.job.id)
        work = final.with_name(f"{final.name}.attempt-{ctx.job.attempts}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        job_runs = self._runs(ctx)
        driver.collect(remote, ctx.path, list(range(len(job_runs))), work)
        when = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        results, errors = manifest.records(job_runs, ctx.plan.document["benchmarks"], work, when)
        doc = self._manifest(ctx, results, errors)
        doc["collected_at"] = when
        tmp = work / "manifest.json.tmp"
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
        os.replace(tmp, work / "manifest.json")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)  # the whole job's results appear at once
        self._next(ctx, "cleanup", results=len(results), errors=len(errors))

    def _manifest(self, ctx: Ctx, results: list, errors: list) -> dict:
        p, sw = ctx.progress, ctx.swprofile
        fingerprint = p.get("fingerprint") or {}
        benchmarks = [{k: b[k] for k in ("suite", "name", "type", "image", "params")}
                      for b in ctx.plan.document["benchmarks"]]
        return {
            "format": manifest.FORMAT, "plan_id": ctx.plan.id, "job_id": ctx.job.id,
            "session_id": p["session_id"],
            "sut": {"name": ctx.sut.name, "fingerprint": fingerprint},
            "swprofile": {
                "name": sw["name"], "kernel_name": p.get("kernel_name"),
                "kernel_git_sha": sw.get("kernel_git_sha"), "kernel_digest": sw.get("kernel"),
                "modules_digest": sw.get("modules"),
                "userspace": (fingerprint.get("SW") or {}).get("userspace_name"),
                "cmdline": sw.get("cmdline") or [], "sysctl": sw.get("sysctl") or [],
                "bootscript": sw.get("bootscript"),
            },
            "benchmarks": benchmarks, "results": results, "errors": errors,
        }

    def cleanup(self, ctx: Ctx) -> None:
        p = ctx.progress
        try:
            driver.remove(self._remote(ctx), ctx.path)
        except SshError as exc:  # the results are safe; the SUT is suspect
            with self.ctl.fence():
                self._sut_failed(ctx, exc.message)
        else:
            with self.ctl.fence():
                suts.record_ok(ctx.sut.id, self.clock())
        failpoints.reach("after-cleanup")
        with self.ctl.fence():
            jobs.finish_job(ctx.job, JobState.COMPLETED, self.clock(),
                               publish=bool(ctx.plan.publish and self.publish_to),
                               results=p.get("results", 0), errors=p.get("errors", 0))

    # --- failures --------------------------------------------------------------------

    def _infrastructure_failed(self, ctx: Ctx, reason: str) -> None:
        log.warning("job %s: infrastructure failure on %s: %s", ctx.job.id, ctx.sut.name, reason)
        self.ctl.connections.drop(ctx.sut.name)
        with self.ctl.fence():
            self._sut_failed(ctx, reason)
            jobs.requeue_job(ctx.job, f"{ctx.sut.name}: {reason}", self.clock())

    def _sut_failed(self, ctx: Ctx, reason: str) -> None:
        tuning = self.ctl.tuning
        suts.record_failure(ctx.sut.id, self.clock(), reason, base=tuning.backoff_base,
                               cap=tuning.backoff_cap)

    def _boot_failed(self, ctx: Ctx, reason: str) -> None:
        log.warning("job %s: boot failure on %s: %s", ctx.job.id, ctx.sut.name, reason)
        self.ctl.connections.drop(ctx.sut.name)
        # back to the SUT's own kernel, whenever the class can: a kexec'd kernel that
        # hangs leaves a SUT that only a power cycle brings back
        if ctx.params.get("power_cycle"):
            try:
                empty = {k: "" for k in ("kernel", "initrd", "modules", "cmdline", "release")}
                boot.power_cycle(ctx.params["power_cycle"], {
                    "name": ctx.sut.name, "host": ctx.sut.host, "port": str(ctx.sut.port), **empty},
                    run=self.power)
            except SshError as exc:
                log.error("could not power-cycle %s back to its own kernel: %s", ctx.sut.name, exc)
        others = [s.id for s in inventory.class_suts(ctx.sut.sutclass_id)
                  if s.id != ctx.sut.id and s.health != "maintenance"]
        with self.ctl.fence():
            self._sut_failed(ctx, f"boot failure: {reason}")
            jobs.requeue_job(ctx.job, f"{ctx.sut.name}: boot failure: {reason}", self.clock(),
                                avoid=[ctx.sut.id] if others else None, boot_failure=True)


def benchmark_yaml(benchmark: dict) -> str:
    """/fastpath-share/benchmark.yaml: the benchmark object with its params."""
    doc = {k: benchmark[k] for k in ("suite", "name", "type", "image", "params")}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)

