"""A SUT's fingerprint and its container runtime's check are taken once per boot id, on a real SUT.

The test SUT's commands are counted by wrappers put in its own /usr/local/sbin
(a tmpfs of its mount namespace, first in the PATH of its sessions): the class's
runtime is `podman-counted`, which logs and runs podman, and `getconf`, which
only the fingerprint calls, logs and runs the real one.
"""

from __future__ import annotations

import time
from pathlib import Path

from fastpath.store.models import Job, Sut
from fastpath.sut.remote import Remote, Target
from tests.integration.api_helpers import submit
from tests.integration.test_jobs_real import Loop, busy, declare, manifest, plan_done, world  # noqa: F401

WRAPPER = "#!/bin/sh\necho \"{name} $*\" >> {log}\nexec {real} \"$@\"\n"


def install_wrappers(bed, sut, log: Path) -> None:
    remote = Remote.connect(Target(name=sut.name, host=sut.host, port=sut.port, user=sut.user,
                                   keyfile=str(bed.keyfile)))
    try:
        real = {n: remote.run(f"command -v {n}").stdout.strip() for n in ("podman", "getconf")}
        for name, target in (("podman-counted", real["podman"]), ("getconf", real["getconf"])):
            text = WRAPPER.format(name=name, log=log, real=target)
            remote.run(f"cat > /usr/local/sbin/{name} <<'EOF'\n{text}EOF\nchmod 755 /usr/local/sbin/{name}")
        assert remote.run("command -v getconf").stdout.strip() == "/usr/local/sbin/getconf"
    finally:
        remote.close()


def counts(log: Path) -> tuple[int, int]:
    """(runtime checks, fingerprints) the SUT has seen."""
    lines = log.read_text().splitlines() if log.exists() else []
    return (sum(line.startswith("podman-counted info") for line in lines),
            sum(line.startswith("getconf ") for line in lines))


def test_the_runtime_and_the_fingerprint_are_checked_once_per_boot_id(world, tmp_path):  # noqa: F811
    api, storage, bed = world
    sut = bed.suts[1]
    declare(bed, tmp_path, [sut], boot="none", container_runtime="podman-counted")
    log = tmp_path / "calls.log"
    install_wrappers(bed, sut, log)
    loop = Loop(storage)

    def run_plan(sessions: int) -> list[Job]:
        plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "a"}],
                "benchmarks": [busy(duration=0.1)],
                "defaults": {"benchmark": {"repeats": 1, "sessions": sessions}}}
        r = submit(api, plan)
        assert r.status_code == 201, r.json
        plan_id = r.json["plan"]["id"]
        assert loop.until(lambda: plan_done(plan_id), what="the plan").state == "completed"
        return list(Job.select().where(Job.plan == plan_id).order_by(Job.id))

    first = run_plan(3)
    assert counts(log) == (1, 1)  # three jobs, one boot: one check of each
    prints = [manifest(storage, job)["sut"]["fingerprint"] for job in first]
    assert prints[0]["HW"]["host_name"] == sut.name and prints == [prints[0]] * 3
    assert Sut.get(Sut.name == sut.name).facts["boot_checks"]["boot_id"] == sut.boot_id

    # a new boot id (the testbed's power cycle): both are taken again, once
    old_boot = sut.boot_id
    sut.power_cycle(delay=0)
    deadline = time.monotonic() + 30
    while not sut.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sut.boot_id != old_boot
    install_wrappers(bed, sut, log)  # a new boot, a new /usr/local/sbin
    Sut.update(health="unknown").where(Sut.name == sut.name).execute()  # probed again now
    loop.until(lambda: (Sut.get(Sut.name == sut.name).facts or {}).get("boot_id") == sut.boot_id,
               what="the new boot seen")
    second = run_plan(2)
    assert counts(log) == (2, 2)
    assert all(manifest(storage, job)["sut"]["fingerprint"] == prints[0] for job in second)
    assert Sut.get(Sut.name == sut.name).facts["boot_checks"]["boot_id"] == sut.boot_id
