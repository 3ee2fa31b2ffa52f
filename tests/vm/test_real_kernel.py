"""Real kernels, really booted: the real scheduler kexecs a QEMU guest into swprofiles.

Every check reads what the guest itself recorded: each boot that reaches
userspace appends "boot_id release cmdline" to a log on its disk
(`VirtualSut.boots()`), so a session is one boot, of the right kernel, with
the right command line, and a kernel that never comes up leaves no line.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections import Counter

from fastpath.results.backend import open_store
from fastpath.testbed.vm import BASE_CMDLINE, VirtualSut
from tests.vm.conftest import FAILING_BOOT_TIMEOUT

# one container run per session: podman under TCG takes ~10 s per run
QUICK = {"warmups": 0, "repeats": 1, "sessions": 2, "timeout": "10m"}
BUSYLOOP = {"include": "testing/busyloop.yaml", "params": {"duration": 0.2}}


def kernel_files(vm: VirtualSut, release: str, into) -> dict:
    """The swprofile fields for one of the image's kernels, copied next to the plan."""
    fields = {}
    for key, src in (("kernel", vm.image.kernel(release)), ("initrd", vm.image.initrd(release)),
                     ("modules", vm.image.modules(release))):
        shutil.copy(src, into / src.name)
        fields[key] = src.name
    return fields


def plan_file(tmp_path, swprofiles: list[dict], name: str = "plan.yaml", **defaults) -> str:
    import yaml

    doc = {"sut": {"sutclass": "vm"}, "swprofiles": swprofiles, "benchmarks": [BUSYLOOP],
           "defaults": {"benchmark": {**QUICK, **defaults}}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def plan(s, id) -> dict:
    return json.loads(s.cli("sched", "plan-list", str(id), "--json").stdout)["plan"]


def finished(s, id):
    p = plan(s, id)
    return p if p["state"] in ("completed", "failed", "cancelled") and p["publishing"] != "pending" else None


def manifest(tmp_path, job: dict) -> dict:
    path = tmp_path / "sched_storage" / "results" / f"plan-{job.get('plan', 1)}" / f"job-{job['id']}"
    return json.loads((path / "manifest.json").read_text())


def session_boots(boots: list[tuple[str, str, str]], session_id: str) -> list[tuple[str, str, str]]:
    return [b for b in boots if f"fastpath.session={session_id}" in b[2].split()]


def test_two_swprofiles_of_real_kernels_each_booted_twice(vm_scheduler, vm, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = vm_scheduler(resultstore=store)
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    own, other = vm.image.own, vm.image.other
    assert not vm.ssh(f"ls /lib/modules/{other} 2>/dev/null || true").strip()  # only the plan brings it
    before = len(vm.boots())
    cmdlines = {"stock": ["fastpath.vmtest=stock"], "candidate": ["fastpath.vmtest=candidate", "audit=0"]}
    releases = {"stock": own, "candidate": other}
    path = plan_file(tmp_path, [
        {"name": name, **kernel_files(vm, releases[name], tmp_path), "cmdline": cmdlines[name]}
        for name in ("stock", "candidate")])

    out = s.cli("sched", "plan-exec", path, token=alice).stdout
    assert out.startswith("Plan 1 queued on SUT class vm: 4 jobs"), out
    # a hang guard: under TCG each of the four boots took 224-230 s in one CI run (900 s ran out)
    done = wait_until(lambda: finished(s, 1), timeout=1500, interval=2, what="the plan of four kexecs")

    assert done["state"] == "completed", done
    jobs = done["jobs"]
    assert [(j["state"], j["attempts"]) for j in jobs] == [("completed", 1)] * 4, jobs
    assert Counter(j["swprofile"] for j in jobs) == {"stock": 2, "candidate": 2}
    assert len({j["session_id"] for j in jobs}) == 4
    boots = vm.boots()[before:]
    assert len(boots) == 4 and len({b[0] for b in boots}) == 4  # four kexecs, nothing else
    for j in jobs:
        [(boot_id, release, cmdline)] = session_boots(boots, j["session_id"])  # one boot each
        assert release == releases[j["swprofile"]]
        assert cmdline.split() == [*BASE_CMDLINE.split(), *cmdlines[j["swprofile"]],
                                   f"fastpath.session={j['session_id']}"]
        m = manifest(tmp_path, j)  # what the job verified, then measured, in that boot
        assert m["session_id"] == j["session_id"] and m["swprofile"]["kernel_name"] == release
        assert len(m["results"]) == 2 and m["errors"] == []  # iterations and elapsed
    # the candidate kernel's modules came from its archive and were really installed
    assert vm.ssh(f"ls /lib/modules/{other}/kernel/drivers/net/virtio_net.ko").strip()
    assert vm.ssh("cat /proc/sys/kernel/osrelease").strip() == boots[-1][1]  # the last job's kernel

    rs = open_store(store)
    try:
        per_sw = Counter()
        for sid, results, errors in rs.sessions():
            assert sid in {j["session_id"] for j in jobs} and errors == []
            assert len({r["swprofile"] for r in results}) == 1
            per_sw[results[0]["swprofile"]] += 1
        kernels = {r["id"]: r["kernel_name"] for r in rs.rows("swprofile")}
    finally:
        rs.close()
    assert per_sw == {"stock": 2, "candidate": 2}
    assert kernels == {"stock": own, "candidate": other}
    show = s.cli("result", "show", store, "--swprofile", "stock", "--swprofile", "candidate").stdout
    header = show.splitlines()[1]
    assert "stock" in header and "candidate" in header, show
    rows = [line for line in show.splitlines() if "iterations" in line or "elapsed" in line]
    assert len(rows) == 2 and all("%" in r for r in rows), show  # candidate against stock
    # one SUT, each swprofile twice: balanced, and the same hardware whatever the kernel says
    assert "Warning" not in show, show


def test_a_kernel_that_never_comes_up_fails_and_the_sut_recovers(vm_scheduler, vm, tmp_path,
                                                                 wait_until):
    s = vm_scheduler(boot_timeout=FAILING_BOOT_TIMEOUT)
    s.start()
    token = s.login()
    own = vm.image.own
    before = len(vm.boots())
    # the kernel loads, then waits for a root device that never appears: no SSH, ever
    broken = plan_file(tmp_path, [{"name": "broken", **kernel_files(vm, own, tmp_path),
                                   "cmdline": ["root=/dev/nonexistent"]}],
                       name="broken.yaml", sessions=1, repeats=1)
    s.cli("sched", "plan-exec", broken)
    done = wait_until(lambda: finished(s, 1), timeout=900, interval=2, what="the broken plan")

    [job] = done["jobs"]
    assert done["state"] == "failed" and job["state"] == "failed", done
    assert job["attempts"] == 2  # retried once, on the same (only) SUT
    assert f"did not come back within {FAILING_BOOT_TIMEOUT}" in job["last_error"], job

    def health():
        suts = s.client(token).get("/sutclasses/vm")["sutclass"]["suts"]
        return suts[0]["health"]

    wait_until(lambda: health() == "healthy", timeout=400, interval=2, what="the SUT to recover")
    vm.wait_ssh(timeout=240)
    # after each failed boot the class's power_cycle brought the guest back on its own kernel
    boots = vm.boots()[before:]
    assert not [b for b in boots if "root=/dev/nonexistent" in b[2]], boots
    assert [(b[1], b[2]) for b in boots] == [(own, BASE_CMDLINE)] * 2, boots
    assert vm.ssh("cat /proc/sys/kernel/osrelease").strip() == own
    # the next job runs fine (a session on the SUT's own kernel: the other tests kexec enough)
    fine = plan_file(tmp_path, [{"name": "fine"}], name="fine.yaml", sessions=1, repeats=1)
    s.cli("sched", "plan-exec", fine)
    done = wait_until(lambda: finished(s, 2), timeout=400, interval=2, what="the next plan")
    [job] = done["jobs"]
    assert done["state"] == "completed" and job["attempts"] == 1, done
    assert len(manifest(tmp_path, {**job, "plan": 2})["results"]) == 2


def test_kill_9_while_the_guest_reboots_resumes_without_a_second_kexec(vm_scheduler, vm, tmp_path,
                                                                        wait_until):
    s = vm_scheduler()
    s.start()
    token = s.login()
    other = vm.image.other
    before = len(vm.boots())
    path = plan_file(tmp_path, [{"name": "candidate", **kernel_files(vm, other, tmp_path),
                                 "cmdline": ["fastpath.vmtest=crash"]}], sessions=1, repeats=1)
    s.cli("sched", "plan-exec", path)
    client = s.client(token)

    def job() -> dict:
        return client.get("/plans/1")["plan"]["jobs"][0]

    wait_until(lambda: job()["step"] == "wait_boot", timeout=300, interval=0.2,
               what="the kexec to be triggered")
    s.stop(signal.SIGKILL)  # the whole process group, while the guest reboots
    assert s.group_alive() == []
    s.start()
    steps = []

    def done():
        j = job()
        steps.append(j["step"])
        return j if j["state"] in ("completed", "failed") else None

    j = wait_until(done, timeout=600, interval=0.3, what="the job to finish after the restart")
    assert j["state"] == "completed" and j["attempts"] == 1, j
    # it resumed at the wait-and-verify step: nothing before it ran again
    seen = [step for step in dict.fromkeys(steps) if step]
    assert seen and seen[0] in ("wait_boot", "prepare", "run"), seen
    assert not {"connect", "stage", "boot"} & set(seen), seen
    boots = vm.boots()[before:]
    assert len(boots) == 1, boots  # one kexec, not two
    [(_, release, cmdline)] = session_boots(boots, j["session_id"])
    assert release == other and "fastpath.vmtest=crash" in cmdline.split()
    assert manifest(tmp_path, j)["session_id"] == j["session_id"]
