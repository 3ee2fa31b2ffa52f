"""The steps of a job on its SUT: what each does there, and which step comes next.

A step acts on the SUT and answers with an outcome; it never writes the
database. The step machine (`fastpath.control.runner`) records the outcome
before anything that depends on it happens, so each step may run twice (a
crash after it acted, before its outcome was recorded) with the same result:

    connect -> [stage] -> boot -> wait_boot -> [setup] -> prepare -> run -> collect -> cleanup

`Next.then` is work that must happen only once the next step is recorded:
triggering a boot once its session is recorded, starting the driver once
`run` is. A step raises `PlanFault` for a fault of the plan, `BootFailure`
when the SUT did not boot as asked and `SshError` when it cannot be reached.

Each step's remote work is one command where it can be (the connect step's
facts, fingerprint and clearing of stale runs; the prepare step's runtime
check and job directory). The fingerprint and the runtime check are taken
once per boot id of the SUT (`fastpath.core.bootchecks`): a step returns what
it learned as `Next.sut_facts`, recorded with the step.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from fastpath.control import failpoints, prober
from fastpath.control.tuning import Tuning
from fastpath.core import backoff, bootchecks, guard, manifest
from fastpath.core.states import JobStep
from fastpath.errors import BootFailure, PlanFault
from fastpath.plan.split import JobSpec, Run, runs
from fastpath.store.files import Storage
from fastpath.store.models import Job, Plan, Sut
from fastpath.sut import boot, driver, facts
from fastpath.sut.connections import Connections
from fastpath.sut.remote import Remote, SshError, Unreachable

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """One job at one step, as read from the database at the start of the step."""

    job: Job
    plan: Plan
    sut: Sut

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

    @property
    def needs_setup(self) -> bool:
        return bool(self.swprofile.get("sysctl") or self.swprofile.get("bootscript"))

    def runs(self) -> list[Run]:
        return runs(self.plan.document, JobSpec(session=self.job.session, swprofile=self.job.swprofile))


@dataclass
class Next:
    """Record `step` (due `after` seconds from now, with `progress` merged in, and what was
    learned about the SUT, `sut_facts`, merged into its facts), then do `then`."""

    step: JobStep
    after: float = 0.0
    progress: dict = field(default_factory=dict)
    then: Callable[[], Next | None] | None = None
    sut_facts: dict | None = None


@dataclass
class Done:
    """The job is finished with its SUT; `sut_error` says why the SUT is suspect, if it is."""

    results: int
    errors: int
    sut_error: str | None = None


class Remotes:
    """SSH connections to SUTs: the controller's cached ones, and new ones for a boot's return."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def get(self, sut: Sut) -> Remote:
        return prober.connect(sut, self.connections)

    def fresh(self, sut: Sut) -> Remote:
        # one try per poll; a slow SUT (a loaded VM) may take many seconds for its banner
        return Remote.connect(prober.target(sut), timeout=15, attempts=1)

    def drop(self, name: str) -> None:
        self.connections.drop(name)


def this_host() -> dict:
    """The scheduler host's own identity, to recognise a SUT that is this very machine."""
    def read(path: str) -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""

    return {"machine_id": read("/etc/machine-id"), "boot_id": read("/proc/sys/kernel/random/boot_id")}


class Steps:
    """The steps, with what they act through: SSH (`remotes`), the SUT-side modules
    (`facts`, `driver`, `boot`; fakes in unit tests), the storage, the clock and power control."""

    def __init__(self, remotes: Remotes, storage: Storage, *, tuning: Tuning = Tuning(),
                 clock: Callable[[], float] = time.time, power: Callable = subprocess.run,
                 host: dict | None = None, sut_facts: ModuleType | Any = facts,
                 sut_driver: ModuleType | Any = driver, sut_boot: ModuleType | Any = boot) -> None:
        self.remotes, self.storage, self.tuning = remotes, storage, tuning
        self.clock, self.power = clock, power
        self.host = host if host is not None else this_host()
        self.facts, self.driver, self.boot = sut_facts, sut_driver, sut_boot
        self.table: dict[JobStep, Callable[[Ctx], Next | Done]] = {
            JobStep.CONNECT: self.connect, JobStep.STAGE: self.stage, JobStep.BOOT: self.boot_step,
            JobStep.WAIT_BOOT: self.wait_boot, JobStep.SETUP: self.setup,
            JobStep.PREPARE: self.prepare, JobStep.RUN: self.poll, JobStep.COLLECT: self.collect,
            JobStep.CLEANUP: self.cleanup,
        }

    def connect(self, ctx: Ctx) -> Next:
        remote = self.remotes.get(ctx.sut)
        known_boot, known = bootchecks.fingerprinted(ctx.sut.facts)
        # clearing stale runs touches only this SUT's job directories: safe before the guard
        seen, fingerprint = self.facts.survey(remote, fingerprinted_boot=known_boot, and_then=(
            self.driver.clear_stale_script(ctx.path, ctx.params["container_runtime"])))
        learned = None
        if fingerprint is None:  # the SUT is still in the boot it was fingerprinted in
            fingerprint = known
        else:
            learned = bootchecks.with_fingerprint(ctx.sut.facts, seen["boot_id"], fingerprint)
        own = guard.is_own_host(seen, self.host)
        sw = ctx.swprofile
        refused = guard.refusal(ctx.sut.name, own_host=own, boot=ctx.params["boot"], boots=ctx.boots,
                                sysctl=bool(sw.get("sysctl")), bootscript=bool(sw.get("bootscript")))
        if refused:
            raise PlanFault(refused)
        progress = dict(uid=seen["uid"], boot_id=seen["boot_id"], fingerprint=fingerprint,
                        is_self=own, kernel_name=seen["release"])
        if not ctx.boots:  # a session without a reboot: a fresh run on the SUT's own kernel
            progress["session_id"] = str(uuid.uuid4())
            return Next(JobStep.SETUP if ctx.needs_setup else JobStep.PREPARE, progress=progress,
                        sut_facts=learned)
        kexec_or_reboot = ctx.params["boot"] in ("kexec", "reboot")
        return Next(JobStep.STAGE if kexec_or_reboot else JobStep.BOOT, progress=progress,
                    sut_facts=learned)

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

    def stage(self, ctx: Ctx) -> Next:
        remote = self.remotes.get(ctx.sut)
        self.boot.stage(remote, self._files(ctx), f"{ctx.path}/boot")
        if ctx.swprofile.get("modules"):
            self.boot.install_modules(remote, f"{ctx.path}/boot/modules.tar", self._release(ctx),
                                      ctx.progress.get("uid"))
        return Next(JobStep.BOOT)

    def boot_step(self, ctx: Ctx) -> Next:
        p = ctx.progress
        if "session_id" in p:
            if self._booted(ctx, p):  # a crash after the trigger: the boot already happened
                return Next(JobStep.WAIT_BOOT)
            return self._trigger(ctx, p)
        # record the session before triggering its boot
        session = str(uuid.uuid4())
        base = ctx.params.get("base_cmdline") or (ctx.sut.facts or {}).get("base_cmdline", "")
        recorded = dict(session_id=session, cmdline=boot.full_cmdline(
            base, ctx.swprofile.get("cmdline") or [], session), release=self._release(ctx),
            deadline=self.clock() + ctx.params["boot_timeout"], old_boot_id=p["boot_id"])

        def trigger() -> Next:
            failpoints.reach("boot-recorded")
            return self._trigger(ctx, {**p, **recorded})

        return Next(JobStep.BOOT, progress=recorded, then=trigger)

    def _booted(self, ctx: Ctx, p: dict) -> bool:
        try:
            seen = self.facts.boot_facts(self.remotes.get(ctx.sut))
        except SshError:
            return True  # down: it is booting; wait_boot knows the deadline
        return seen["boot_id"] != p["old_boot_id"]

    def _trigger(self, ctx: Ctx, p: dict) -> Next:
        kind, files = ctx.params["boot"], self._files(ctx)
        if kind == "power_cycle":
            values = {"name": ctx.sut.name, "host": ctx.sut.host, "port": str(ctx.sut.port),
                      "kernel": str(files.get("kernel", "")), "initrd": str(files.get("initrd", "")),
                      "modules": str(files.get("modules.tar", "")), "cmdline": p["cmdline"],
                      "release": p["release"] or ""}
            self.boot.power_cycle(ctx.params["power_cycle"], values, run=self.power)
        else:
            remote = self.remotes.get(ctx.sut)
            kernel = f"{ctx.path}/boot/kernel"
            initrd = f"{ctx.path}/boot/initrd" if "initrd" in files else None
            if kind == "kexec":
                self.boot.kexec(remote, kernel, initrd, p["cmdline"], p.get("uid"))
            else:
                self.boot.reboot(remote, kernel, initrd, p["cmdline"], p["session_id"], p.get("uid"))
        self.remotes.drop(ctx.sut.name)
        return Next(JobStep.WAIT_BOOT, after=self.tuning.boot_poll)

    def wait_boot(self, ctx: Ctx) -> Next:
        p = ctx.progress
        try:
            remote = self.remotes.fresh(ctx.sut)
            try:
                seen = self.facts.boot_facts(remote)
            finally:
                remote.close()
        except Unreachable:
            seen = None
        if seen is None or seen["boot_id"] == p["old_boot_id"]:
            if self.clock() > p["deadline"]:
                raise BootFailure(f"the SUT did not come back within {ctx.params['boot_timeout']:g}s "
                                  "of its boot")
            return Next(JobStep.WAIT_BOOT, after=self.tuning.boot_poll)
        boot.verify(seen, p["old_boot_id"], p["cmdline"], p["release"])
        return Next(JobStep.SETUP if ctx.needs_setup else JobStep.PREPARE,
                    progress=dict(boot_id=seen["boot_id"], kernel_name=seen["release"]))

    def setup(self, ctx: Ctx) -> Next:
        remote = self.remotes.get(ctx.sut)
        s = boot.sudo(ctx.progress.get("uid"))
        script = [f"{s}sysctl -w {shlex.quote(entry)} > /dev/null"
                  for entry in ctx.swprofile.get("sysctl") or []]
        if ctx.swprofile.get("bootscript"):
            self.boot.stage(remote, {"bootscript": self.storage.path(ctx.swprofile["bootscript"])},
                            f"{ctx.path}/boot")
            script.append(f"{s}sh {ctx.path}/boot/bootscript")
        done = remote.run("set -e\n" + "\n".join(script), timeout=1800, check=False)
        if done.status != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise PlanFault(f"the swprofile's sysctl or bootscript failed with status {done.status}: "
                            f"{tail}")
        return Next(JobStep.PREPARE)

    def prepare(self, ctx: Ctx) -> Next:
        remote = self.remotes.get(ctx.sut)
        runtime, boot_id = ctx.params["container_runtime"], ctx.progress["boot_id"]
        check = not bootchecks.runtime_checked(ctx.sut.facts, boot_id, runtime)
        benchmarks = ctx.plan.document["benchmarks"]
        specs = []
        for i, r in enumerate(ctx.runs()):
            b = benchmarks[r.benchmark]
            specs.append(driver.RunSpec(i, b["image"], b["timeout"], benchmark_yaml(b)))
        self.driver.prepare(remote, ctx.path, specs, runtime, pull=bool(ctx.params.get("registry")),
                            check_runtime=check)

        def start() -> None:
            self.driver.start(remote, ctx.path)

        # the first poll as soon as a run could have ended, then less and less often
        return Next(JobStep.RUN, after=self.tuning.job_poll_min,
                    progress=dict(changed_at=self.clock()), then=start,
                    sut_facts=bootchecks.with_runtime(ctx.sut.facts, boot_id, runtime) if check else None)

    def poll(self, ctx: Ctx) -> Next:
        p, now = ctx.progress, self.clock()
        try:
            status = self.driver.poll(self.remotes.get(ctx.sut), ctx.path)
        except Unreachable as exc:  # the run goes on without us: retry for a while
            since = p.get("unreachable_since") or now
            if now - since > self.tuning.unreachable_grace:
                raise
            log.info("job %s: SUT unreachable while polling (%s); retrying", ctx.job.id, exc.message)
            return Next(JobStep.RUN, after=5.0, progress=dict(unreachable_since=since))
        if not status.present:
            raise Unreachable(f"{ctx.sut.name}: the job's directory vanished from the SUT")
        if status.boot_id != p["boot_id"]:
            raise Unreachable(f"{ctx.sut.name}: the SUT rebooted while the job ran")
        if status.finished:
            return Next(JobStep.COLLECT, progress=dict(unreachable_since=None))
        if not status.driver_alive:  # started (or crashed) before the driver was; it resumes
            log.warning("job %s: driver not running on %s; starting it", ctx.job.id, ctx.sut.name)
            self.driver.start(self.remotes.get(ctx.sut), ctx.path)
        done = sum(v not in ("running", "-") for v in status.runs.values())
        changed = p.get("changed_at", now) if done == p.get("done_runs") else now
        after = backoff.poll_after(now - changed, self.tuning.job_poll_min, self.tuning.job_poll_max)
        return Next(JobStep.RUN, after=after,
                    progress=dict(done_runs=done, changed_at=changed, unreachable_since=None))

    def collect(self, ctx: Ctx) -> Next:
        remote = self.remotes.get(ctx.sut)
        final = self.storage.job_dir(ctx.plan.id, ctx.job.id)
        work = final.with_name(f"{final.name}.attempt-{ctx.job.attempts}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        job_runs = ctx.runs()
        self.driver.collect(remote, ctx.path, list(range(len(job_runs))), work)
        when = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        results, errors = manifest.records(job_runs, ctx.plan.document["benchmarks"], work, when)
        doc = job_manifest(ctx, results, errors)
        doc["collected_at"] = when
        tmp = work / "manifest.json.tmp"
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
        os.replace(tmp, work / "manifest.json")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)  # the whole job's results appear at once
        last = manifest.last_error(errors, ctx.plan.document["benchmarks"])
        return Next(JobStep.CLEANUP, progress=dict(results=len(results), errors=len(errors),
                                                   benchmark_error=last))

    def cleanup(self, ctx: Ctx) -> Done:
        p = ctx.progress
        try:
            self.driver.remove(self.remotes.get(ctx.sut), ctx.path)
        except SshError as exc:  # the results are safe; the SUT is suspect
            return Done(p.get("results", 0), p.get("errors", 0), sut_error=exc.message)
        return Done(p.get("results", 0), p.get("errors", 0))

    def return_to_own_kernel(self, ctx: Ctx) -> None:
        """After a failed boot, power-cycle the SUT back to its own kernel, where the class can:
        a kexec'd kernel that hangs leaves a SUT that only a power cycle brings back."""
        self.remotes.drop(ctx.sut.name)
        if not ctx.params.get("power_cycle"):
            return
        empty = {k: "" for k in ("kernel", "initrd", "modules", "cmdline", "release")}
        try:
            self.boot.power_cycle(ctx.params["power_cycle"], {
                "name": ctx.sut.name, "host": ctx.sut.host, "port": str(ctx.sut.port), **empty},
                run=self.power)
        except SshError as exc:
            log.error("could not power-cycle %s back to its own kernel: %s", ctx.sut.name, exc)


def job_manifest(ctx: Ctx, results: list, errors: list) -> dict:
    """manifest.json: everything the resultstore needs to publish the job's results."""
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
        "placement": p.get("placement"),  # a `same` plan's job that fell back, and why
    }


def benchmark_yaml(benchmark: dict) -> str:
    """/fastpath-share/benchmark.yaml: the benchmark object with its params."""
    doc = {k: benchmark[k] for k in ("suite", "name", "type", "image", "params")}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
