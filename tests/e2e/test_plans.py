"""The guide's plan sections with the real scheduler, the real CLI and real SSH SUTs."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
import yaml

from fastpath.results.backend import open_store
from tests.databases import scratch_database

RELEASE = "6.19.0-candidate"


def plan_file(tmp_path, *, name="demo-plan.yaml", benchmarks=None, defaults=None, swprofiles=None):
    """The guide's plan, with small local stand-ins for the kernel and modules, and our busyloop
    benchmark in place of the guide's (their images need a registry this machine cannot reach)."""
    kernel = tmp_path / "Image"
    kernel.write_bytes(b"\x7fELF stand-in kernel" * 50)
    modules = tmp_path / "modules.tar.xz"
    with tarfile.open(modules, "w:xz") as tar:
        info = tarfile.TarInfo(f"lib/modules/{RELEASE}/kernel/fake.ko")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"fake"))
    doc = {"sut": {"sutclass": "demo"},
           "swprofiles": swprofiles or [{"name": "baseline", "kernel": "Image",
                                         "modules": "modules.tar.xz"}],
           "benchmarks": benchmarks or [{"include": "testing/busyloop.yaml"}],
           "defaults": {"benchmark": defaults or {"warmups": 1, "repeats": 2, "sessions": 2,
                                                  "timeout": "1h"}}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def plan(s, id, token=None) -> dict:
    return json.loads(s.cli("sched", "plan-list", str(id), "--json", token=token).stdout)["plan"]


def finished(s, id):
    p = plan(s, id)
    return p if p["state"] in ("completed", "failed", "cancelled") and p["publishing"] != "pending" else None


@pytest.fixture(params=["sqlite", "postgresql"])
def scheduler_database(request, tmp_path):
    """The scheduler's database URL: SQLite (the default), and once on PostgreSQL (DESIGN §12)."""
    if request.param == "sqlite":
        yield None
        return
    with scratch_database("postgresql", str(tmp_path)) as url:
        yield url


def test_submit_track_and_publish_as_the_guide_shows(scheduler_database, scheduler, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/scheduler-results.db"
    s = scheduler(boot="power_cycle", resultstore=store, database=scheduler_database)
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    path = plan_file(tmp_path)

    out = s.cli("sched", "plan-exec", str(path), token=alice).stdout
    assert out.startswith("Plan 1 queued on SUT class demo: 2 jobs, priority 5")
    out = s.cli("sched", "plan-exec", "--priority", "8", str(path), token=alice).stdout
    assert out.startswith("Plan 2 queued") and "priority 8" in out
    out = s.cli("sched", "plan-exec", "--no-publish", str(path), token=alice).stdout
    assert out.startswith("Plan 3 queued") and "results not published" in out

    seen = set()

    def all_done():
        listing = json.loads(s.cli("sched", "plan-list", "--all-users", "--all-states", "--json").stdout)
        for p in listing["plans"]:
            seen.add((p["id"], p["progress"]["completed"]))
        return all(finished(s, p["id"]) for p in listing["plans"])

    wait_until(all_done, timeout=180, interval=0.3, what="three plans to finish")
    assert {c for pid, c in seen if pid == 1} >= {0, 2} or {c for pid, c in seen if pid == 2} >= {0, 1}
    for id in (1, 2, 3):
        p = plan(s, id)
        assert p["state"] == "completed" and p["progress"]["completed"] == 2
        assert p["progress"]["results"] == 2 * 2 * 2  # 2 jobs x 2 repeats x 2 metrics
        assert p["publishing"] == ("skipped" if id == 3 else "done")
        assert all(j["sut"] in ("sut-01", "sut-02") and j["attempts"] == 1 for j in p["jobs"])

    table = s.cli("sched", "plan-list", "--all-users", "--all-states", token=alice).stdout.splitlines()
    assert table[0].split()[:6] == ["ID", "USER", "SUTCLASS", "PRIORITY", "PROGRESS", "STATUS"]
    assert table[1].split()[1:6] == ["alice", "demo", "5", "2/2", "completed"]
    detail = s.cli("sched", "plan-list", "1", token=alice).stdout
    assert "Progress:       2/2 jobs completed" in detail and "baseline" in detail
    assert json.loads(s.cli("sched", "plan-list", "--json", token=alice).stdout)["plans"] == []

    # what was measured is in the resultstore: plans 1 and 2, not 3 (--no-publish)
    rs = open_store(store)
    sessions = {sid for sid, _, _ in rs.sessions()}
    published = {j["session_id"] for id in (1, 2) for j in plan(s, id)["jobs"]}
    unpublished = {j["session_id"] for j in plan(s, 3)["jobs"]}
    assert sessions == published and not sessions & unpublished
    [sw] = rs.rows("swprofile")
    assert sw["id"] == "baseline" and sw["kernel_name"] == RELEASE
    rs.close()
    show = s.cli("result", "show", store, "--swprofile", "baseline").stdout
    row = next(line for line in show.splitlines() if "iterations" in line)
    assert row.rstrip(" |").endswith("8")  # 2 plans x 2 sessions x 2 repeats


def test_plan_update_moves_queued_jobs_and_leases_share_the_class(scheduler, tmp_path, wait_until):
    s = scheduler(boot="none")
    s.start()
    s.login()
    alice, bob = s.user("alice", "exec,query"), s.user("bob", "lease,query")
    held = [json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json", token=bob).stdout)
            ["lease"]["id"] for _ in range(2)]
    quick = {"warmups": 0, "repeats": 1, "sessions": 1}
    a = plan_file(tmp_path, name="a.yaml", defaults=quick, swprofiles=[{"name": "a"}])
    b = plan_file(tmp_path, name="b.yaml", defaults=quick, swprofiles=[{"name": "b"}])
    s.cli("sched", "plan-exec", str(a), token=alice)
    s.cli("sched", "plan-exec", str(b), token=alice)
    out = s.cli("sched", "plan-update", "2", "--priority", "9", token=alice).stdout
    assert out.strip() == "Plan 2 priority is now 9."
    s.cli("sched", "lease-release", str(held[0]), token=bob)
    wait_until(lambda: plan(s, 2)["state"] != "queued", what="plan 2 to start")
    assert plan(s, 1)["state"] == "queued"  # plan 2 overtook it
    s.cli("sched", "lease-release", str(held[1]), token=bob)
    wait_until(lambda: finished(s, 1) and finished(s, 2), timeout=60, what="both plans")

    # a person waiting for a SUT is not locked out by a big plan (fairness)
    big = plan_file(tmp_path, name="big.yaml", swprofiles=[{"name": "big"}],
                    defaults={"warmups": 0, "repeats": 1, "sessions": 4},
                    benchmarks=[{"include": "testing/busyloop.yaml", "params": {"sleep": 1}}])
    s.cli("sched", "plan-exec", str(big), token=alice)
    wait_until(lambda: plan(s, 3)["progress"]["running"] == 2, what="the big plan on both SUTs")
    lease = json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json", token=bob).stdout)
    assert lease["lease"]["state"] == "acquired"
    assert plan(s, 3)["progress"]["completed"] <= 2  # served before the plan's later jobs
    s.cli("sched", "lease-release", str(lease["lease"]["id"]), token=bob)
    wait_until(lambda: finished(s, 3), timeout=90, what="the big plan")


def test_plan_cancel_lets_running_jobs_finish(scheduler, tmp_path, wait_until):
    s = scheduler(boot="none")
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    path = plan_file(tmp_path, swprofiles=[{"name": "own"}],
                     defaults={"warmups": 0, "repeats": 1, "sessions": 4},
                     benchmarks=[{"include": "testing/busyloop.yaml", "params": {"sleep": 3}}])
    s.cli("sched", "plan-exec", str(path), token=alice)
    wait_until(lambda: plan(s, 1)["progress"]["running"] == 2, what="two jobs running")
    out = s.cli("sched", "plan-cancel", "1", token=alice).stdout
    assert out.strip() == "Plan 1 is running; 2 running jobs will finish first."
    p = plan(s, 1)
    assert p["progress"]["cancelled"] == 2 and p["cancel_requested"]
    done = wait_until(lambda: finished(s, 1), timeout=60, what="the plan to end")
    assert done["state"] == "cancelled" and done["progress"]["completed"] == 2
    again = s.cli("sched", "plan-cancel", "1", token=alice, check=False)
    assert again.returncode == 5 and "already cancelled" in again.stderr


def test_a_sut_that_dies_mid_job(scheduler, suts, tmp_path, wait_until):
    s = scheduler(boot="none")
    s.start()
    token = s.login()
    alice = s.user("alice", "exec,query")
    path = plan_file(tmp_path, swprofiles=[{"name": "own"}],
                     defaults={"warmups": 0, "repeats": 1, "sessions": 1},
                     benchmarks=[{"include": "testing/busyloop.yaml", "params": {"sleep": 3}}])
    s.cli("sched", "plan-exec", str(path), token=alice)
    job = wait_until(lambda: next((j for j in plan(s, 1)["jobs"] if j["step"] == "run"), None),
                     what="the job to run")
    victim = suts.sut(job["sut"])
    victim.stop()  # the machine dies, and the benchmark with it

    def health():
        return {x["name"]: x["health"] for x in s.client(token).get("/sutclasses/demo")["sutclass"]["suts"]}

    done = wait_until(lambda: finished(s, 1), timeout=120, what="the job on the other SUT")
    [j] = done["jobs"]
    assert done["state"] == "completed" and j["attempts"] == 2 and j["sut"] != victim.name
    assert "unreachable" in (j["last_error"] or "") or j["last_error"] is None
    assert health()[victim.name] == "unhealthy"
    victim.start()
    wait_until(lambda: health()[victim.name] == "healthy", timeout=60, what="recovery")
