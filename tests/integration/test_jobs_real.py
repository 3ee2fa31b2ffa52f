"""Jobs on real SSH SUTs: containers with podman, simulated boots, failures of every kind.

The controller runs here one pass at a time (its work inline), against the
session's testbed of real OpenSSH servers, with the real clock.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from fastpath.control.controller import Controller
from fastpath.control.runner import JobRunner
from fastpath.control.tuning import Tuning
from fastpath.core.sutclass import parse
from fastpath.store.files import Storage
from fastpath.store.models import Job, Plan, Sut
from fastpath.store.queries import inventory
from tests.fakes import InlineExecutor
from tests.integration.api_helpers import Api, submit

TUNING = Tuning(probe_interval=60, fresh=5, backoff_base=0.5, backoff_cap=2, ttl=60,
                job_poll_min=0.2, job_poll_max=1.0, boot_poll=0.3, unreachable_grace=10)


class Loop:
    """The controller's loop, run by the test until a condition holds."""

    def __init__(self, storage: Storage) -> None:
        self.ctl = Controller(name="test", tuning=TUNING, executor=InlineExecutor())
        self.ctl.register(JobRunner.of(self.ctl, storage, publish_to=None))

    def until(self, predicate, timeout: float = 90.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.ctl.lead()
            self.ctl.run_once()
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: "
                             f"{[(j.id, j.state, j.step, j.last_error) for j in Job.select()]}")


def declare(bed, tmp_path, suts, **params):
    doc = bed.sutclasses("lab", suts=suts, **params)
    inventory.sync_inventory(parse(yaml.safe_dump(doc), source="s.yaml", base=tmp_path), time.time())


def busy(**params) -> dict:
    return {"suite": "testing", "name": "busyloop", "type": "container",
            "image": "localhost/fastpath-bench-busyloop:1", "params": params}


def plan_done(plan_id: int):
    plan = Plan.get_by_id(plan_id)
    return plan if plan.state in ("completed", "failed", "cancelled") else None


def manifest(storage: Storage, job: Job) -> dict:
    return json.loads((storage.job_dir(job.plan_id, job.id) / "manifest.json").read_text())


@pytest.fixture
def world(sqlite_database, suts, busyloop, tmp_path):
    api = Api(time.time, tmp_path / "storage")
    storage = Storage(tmp_path / "storage")
    return api, storage, suts


def test_plan_with_sessions_swprofiles_warmups_repeats(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[:2], boot="none")
    plan = {"sut": {"sutclass": "lab"},
            "swprofiles": [{"name": "a"}, {"name": "b"}],
            "benchmarks": [busy(duration=0.1), {**busy(duration=0.2), "sessions": 1}],
            "defaults": {"benchmark": {"warmups": 1, "repeats": 2, "sessions": 2, "timeout": "1m"}}}
    loop = Loop(storage)
    # both SUTs answer before the plan comes, so that its first jobs go to both at once
    loop.until(lambda: {s.health for s in Sut.select()} == {"healthy"}, what="both SUTs healthy")
    r = submit(api, plan)
    assert r.status_code == 201, r.json
    plan_id = r.json["plan"]["id"]
    assert r.json["plan"]["progress"]["total"] == 4  # 2 swprofiles x 2 sessions
    done = loop.until(lambda: plan_done(plan_id), what="the plan")
    assert done.state == "completed"
    jobs = list(Job.select().where(Job.plan == plan_id).order_by(Job.id))
    assert [(j.swprofile, j.session) for j in jobs] == [(0, 1), (1, 1), (1, 2), (0, 2)]  # A B, B A
    assert {j.sut.name for j in jobs} == {"sut-01", "sut-02"}  # both SUTs used
    sessions = set()
    for job in jobs:
        m = manifest(storage, job)
        benches = 2 if job.session == 1 else 1  # benchmark 1 runs only in session 1
        # per benchmark: 2 repeats x 2 metrics (iterations, elapsed); warmups are discarded
        assert len(m["results"]) == benches * 2 * 2 and m["errors"] == []
        assert job.results == len(m["results"]) and job.errors == 0
        assert {r["repeat"] for r in m["results"]} == {0, 1}
        assert m["session_id"] == job.session_id and m["sut"]["name"] == job.sut.name
        assert m["collected_at"].endswith("Z") and m["swprofile"]["modules_digest"] is None
        assert m["swprofile"]["name"] == plan["swprofiles"][job.swprofile]["name"]
        assert m["sut"]["fingerprint"]["HW"]["host_name"] == job.sut.name
        sessions.add(m["session_id"])
        starts = list((storage.job_dir(plan_id, job.id) / "runs").glob("*/starts.log"))
        assert len(starts) == benches * 3 and all(p.read_text().count("started") == 1 for p in starts)
    assert len(sessions) == 4  # one session id per job
    assert {s.health for s in Sut.select()} == {"healthy"}
    assert inventory.holders() == {}  # every SUT was freed


def test_benchmark_failures_become_error_records(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[:1], boot="none")
    plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "a"}],
            "benchmarks": [busy(results="garbage"), busy(exit_code=3),
                           {**busy(sleep=30), "timeout": "2s"}, busy(results="missing"),
                           busy(duration=0.1)],
            "defaults": {"benchmark": {"repeats": 1}}}
    plan_id = submit(api, plan).json["plan"]["id"]
    done = Loop(storage).until(lambda: plan_done(plan_id), what="the plan")
    assert done.state == "completed"  # benchmark failures do not fail the job
    [job] = Job.select().where(Job.plan == plan_id)
    m = manifest(storage, job)
    codes = {e["benchmark"]: (e["code"], e["message"]) for e in m["errors"]}
    assert len(m["errors"]) == 4
    assert codes[0][0] == 201 and "malformed results.csv" in codes[0][1]
    assert codes[1] == (3, "the container exited with status 3")
    assert codes[2] == (124, "timed out after 2s")
    assert codes[3][0] == 200
    assert [r["benchmark"] for r in m["results"]] == [4, 4]  # the good one still ran
    log = storage.job_dir(plan_id, job.id) / m["errors"][1]["log"]
    assert "failing with status 3 as asked" in log.read_text()  # the container's output is kept
    assert job.errors == 4 and job.results == 2


def modules_tar(path: Path, release: str) -> Path:
    with tarfile.open(path, "w:xz") as tar:
        data = b"fake module"
        info = tarfile.TarInfo(f"lib/modules/{release}/kernel/fake.ko")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_power_cycle_boots_the_swprofile_and_verifies_it(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[2:3], boot="power_cycle", boot_timeout="30s")
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"\x00kernel" * 1000)
    modules = modules_tar(tmp_path / "modules.tar.xz", "6.19.0-candidate")
    plan = {"sut": {"sutclass": "lab"},
            "swprofiles": [{"name": "candidate", "kernel": "Image", "modules": "modules.tar.xz",
                            "cmdline": ["thp_anon=64K:never;2M:madvise", "quiet"]}],
            "benchmarks": [busy(duration=0.1)]}
    files = {"swprofiles[0].kernel": kernel, "swprofiles[0].modules": modules}
    r = submit(api, plan, files)
    assert r.status_code == 201, r.json
    plan_id = r.json["plan"]["id"]
    stored = Plan.get_by_id(plan_id).document["swprofiles"][0]
    assert stored["kernel"].startswith("sha256:") and storage.has(stored["kernel"])
    sut = bed.suts[2]
    old_boot = sut.boot_id
    done = Loop(storage).until(lambda: plan_done(plan_id), what="the plan")
    assert done.state == "completed", [j.last_error for j in Job.select()]
    [job] = Job.select().where(Job.plan == plan_id)
    m = manifest(storage, job)
    assert sut.boot_id != old_boot and sut.osrelease == "6.19.0-candidate"
    assert f"fastpath.session={job.session_id}" in sut.cmdline
    assert "thp_anon=64K:never;2M:madvise quiet" in sut.cmdline
    assert m["swprofile"]["kernel_name"] == "6.19.0-candidate" and len(m["results"]) == 2
    assert sut.stub_calls() == []  # nothing was rebooted or installed on the SUT itself


def test_a_boot_that_never_returns_retries_once_on_another_sut(world, tmp_path):
    api, storage, bed = world
    bad, good = bed.suts[0], bed.suts[1]
    declare(bed, tmp_path, [bad, good], boot="power_cycle", boot_timeout="3s")
    bad.fail_boots()
    Loop(storage).until(lambda: Sut.select().where(Sut.health == "healthy").count() == 2,
                        what="both SUTs healthy")
    Sut.update(health="maintenance").where(Sut.name == good.name).execute()  # bad goes first
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"k")
    plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "x", "kernel": "Image"}],
            "benchmarks": [busy(duration=0.1)]}
    plan_id = submit(api, plan, {"swprofiles[0].kernel": kernel}).json["plan"]["id"]
    loop = Loop(storage)
    loop.until(lambda: Job.get(Job.plan == plan_id).boot_failures == 1, what="a boot failure")
    job = Job.get(Job.plan == plan_id)
    assert job.state == "queued" and "did not come back within 3s" in job.last_error
    assert Sut.get(Sut.name == bad.name).health == "unhealthy"
    # good is back and bad is drained, so that the retry cannot race bad's recovery
    Sut.update(health="maintenance").where(Sut.name == bad.name).execute()
    Sut.update(health="unknown").where(Sut.name == good.name).execute()
    done = loop.until(lambda: plan_done(plan_id), what="the plan")
    job = Job.get(Job.plan == plan_id)
    assert done.state == "completed" and job.sut.name == good.name and job.attempts == 2
    # the failed SUT was power-cycled back to its own kernel and recovers by itself
    Sut.update(health="unknown").where(Sut.name == bad.name).execute()
    loop.until(lambda: Sut.get(Sut.name == bad.name).health == "healthy", what="recovery")
    assert bad.osrelease == bad._read("orig_osrelease")


def test_the_guard_refuses_to_kexec_the_schedulers_own_host(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[3:4], boot="kexec")
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"k")
    plan = {"sut": {"sutclass": "lab"},
            "swprofiles": [{"name": "x", "kernel": "Image", "sysctl": ["vm.swappiness=10"]}],
            "benchmarks": [busy(duration=0.1)]}
    plan_id = submit(api, plan, {"swprofiles[0].kernel": kernel}).json["plan"]["id"]
    done = Loop(storage).until(lambda: plan_done(plan_id), what="the plan")
    job = Job.get(Job.plan == plan_id)
    assert done.state == "failed" and job.state == "failed"
    assert "refusing to install and kexec a kernel and apply sysctl settings" in job.last_error
    assert "scheduler's own host" in job.last_error
    assert bed.suts[3].stub_calls() == []  # not one dangerous command was even tried


def test_unreachable_sut_at_job_start_requeues_the_job(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[:2], boot="none")
    loop = Loop(storage)
    loop.until(lambda: Sut.select().where(Sut.health == "healthy").count() == 2, what="healthy")
    down, up = bed.suts[0], bed.suts[1]
    Sut.update(health="maintenance").where(Sut.name == up.name).execute()
    down.stop()
    plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "a"}], "benchmarks": [busy()]}
    plan_id = submit(api, plan).json["plan"]["id"]
    loop.until(lambda: Job.get(Job.plan == plan_id).attempts == 1
               and Job.get(Job.plan == plan_id).state == "queued", what="the requeue")
    sut = Sut.get(Sut.name == down.name)
    assert sut.health == "unhealthy" and "connection refused" in sut.reason
    Sut.update(health="unknown").where(Sut.name == up.name).execute()
    done = loop.until(lambda: plan_done(plan_id), what="the plan")
    assert done.state == "completed" and Job.get(Job.plan == plan_id).sut.name == up.name
    down.start()
    loop.until(lambda: Sut.get(Sut.name == down.name).health == "healthy", what="recovery")


def test_dropped_ssh_sessions_do_not_disturb_a_run(world, tmp_path):
    api, storage, bed = world
    declare(bed, tmp_path, bed.suts[:1], boot="none")
    plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "a"}],
            "benchmarks": [busy(sleep=4, duration=0.1)]}
    plan_id = submit(api, plan).json["plan"]["id"]
    loop = Loop(storage)
    loop.until(lambda: Job.get(Job.plan == plan_id).step == "run", what="the run")
    killed = bed.suts[0].kill_sessions()
    assert killed >= 1
    done = loop.until(lambda: plan_done(plan_id), what="the plan")
    job = Job.get(Job.plan == plan_id)
    assert done.state == "completed" and job.attempts == 1 and job.results == 2
    starts = list((storage.job_dir(plan_id, job.id) / "runs").glob("*/starts.log"))
    assert [p.read_text().count("started") for p in starts] == [1]


def test_leftovers_of_another_database_never_pass_for_this_job(world, tmp_path):
    """Job ids start again at 1 in a new database (a reinstall, another lab, the next test):
    what a job of the same id and attempt left on the SUT is cleared, not taken for its own."""
    api, storage, bed = world
    sut = bed.suts[0]
    declare(bed, tmp_path, [sut], boot="none")
    plan = {"sut": {"sutclass": "lab"}, "swprofiles": [{"name": "a"}],
            "benchmarks": [busy(duration=0.1)], "defaults": {"benchmark": {"warmups": 1}}}
    plan_id = submit(api, plan).json["plan"]["id"]
    job_id = Job.get(Job.plan == plan_id).id
    mine = sut.dir / "home" / ".fastpath" / sut.name  # the test SUT's home, seen from here
    leftovers = [mine / f"job-{job_id}-a1", mine / f"job-{job_id}-a1-0123456789ab"]
    for old in leftovers:  # an earlier run, killed mid-benchmark
        (old / "runs" / "0000").mkdir(parents=True)
        (old / "runs" / "0000" / "started").write_text("1\n")
    done = Loop(storage).until(lambda: plan_done(plan_id), what="the plan")
    job = Job.get(Job.plan == plan_id)
    m = manifest(storage, job)
    assert done.state == "completed" and m["errors"] == [] and job.results == 2
    assert not any(old.exists() for old in leftovers)
