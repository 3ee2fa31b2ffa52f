"""kill -9 at any moment: nothing is lost, nothing runs twice, no SUT is handed out twice."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import threading
import time
import uuid

import pytest

from fastpath import errors


def snapshot(client) -> list[tuple]:
    leases = client.get("/leases", all_users="true", all_states="true")["leases"]
    return [(x["id"], x["user"], x["state"], (x["sut"] or {}).get("name"), x["acquired_at"])
            for x in leases]


def usage_overlaps(db_path) -> list:
    """Intervals in which one SUT was held twice (must be none)."""
    rows = sqlite3.connect(db_path).execute(
        "SELECT sut_id, started_at, COALESCE(ended_at, 1e18), kind, ref FROM usage"
        " ORDER BY sut_id, started_at"
    ).fetchall()
    bad = []
    for a, b in zip(rows, rows[1:], strict=False):
        if a[0] == b[0] and b[1] < a[2]:
            bad.append((a, b))
    return bad


def test_leases_are_exactly_as_they_were_after_kill_9(scheduler, wait_until, tmp_path):
    s = scheduler()
    s.start()
    s.login()
    bob, dave = s.user("bob", "lease,query"), s.user("dave", "lease,query")
    for _ in range(2):
        s.cli("sched", "lease-acquire", "demo", "--wait", token=bob)
    admin = s.client(s.admin_token())
    waiter = s.spawn("sched", "lease-acquire", "demo", "--wait", "--json", token=dave)
    wait_until(lambda: len(snapshot(admin)) == 3, what="the waiter's lease")
    s.cli("sched", "lease-acquire", "demo", token=dave)
    before = snapshot(admin)
    assert [x[2] for x in before] == ["acquired", "acquired", "queued", "queued"]

    s.stop(signal.SIGKILL)  # the whole process group, at once
    assert s.group_alive() == []
    s.start()
    assert snapshot(admin) == before  # exactly as it was

    # the waiting client rode out the restart and gets its SUT when one is freed
    s.cli("sched", "lease-release", str(before[0][0]), token=bob)
    lease = json.loads(waiter.communicate(timeout=120)[0])["lease"]
    assert lease["id"] == before[2][0] and lease["state"] == "acquired"
    assert lease["sut"]["name"] == before[0][3]
    assert usage_overlaps(tmp_path / "scheduler.db") == []


def test_chaos_of_clients_and_kills(scheduler, wait_until, tmp_path):
    s = scheduler()
    s.start()
    s.login()
    users = [s.user(f"u{i}", "lease,query") for i in range(4)]
    rng = random.Random(1)
    stop = threading.Event()
    made: dict[int, str] = {}  # lease id -> user, for every lease a client was told about
    seen_sut: dict[int, str] = {}
    problems: list[str] = []

    def patient(call, *args, **kw):
        while True:
            try:
                return call(*args, **kw)
            except errors.Unavailable:
                time.sleep(0.2)

    def person(token: str, name: str) -> None:
        client = s.client(token)
        while not stop.is_set():
            key = {"Idempotency-Key": uuid.uuid4().hex}
            lease = patient(client.post, "/leases", {"sutclass": "demo"}, key)["lease"]
            made[lease["id"]] = name
            while lease["state"] == "queued":
                lease = patient(client.get, f"/leases/{lease['id']}", wait=5)["lease"]
            if lease["state"] != "acquired":
                problems.append(f"lease {lease['id']} became {lease['state']}")
                return
            sut = lease["sut"]["name"]
            if seen_sut.setdefault(lease["id"], sut) != sut:
                problems.append(f"lease {lease['id']} moved from {seen_sut[lease['id']]} to {sut}")
            time.sleep(rng.random() * 0.3)
            try:
                patient(client.post, f"/leases/{lease['id']}/release")
            except errors.Conflict:
                pass  # released by the try that the kill interrupted

    threads = [threading.Thread(target=person, args=(t, f"u{i}")) for i, t in enumerate(users)]
    for t in threads:
        t.start()
    for _ in range(6):
        time.sleep(rng.uniform(0.5, 2.5))
        s.stop(signal.SIGKILL)
        assert s.group_alive() == []
        s.start()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a waiter was never served"
    assert problems == []
    admin = s.client(s.admin_token())
    final = {x[0]: x for x in snapshot(admin)}
    assert set(made) <= set(final)  # no lease a client was told about was lost
    assert all(final[i][2] == "released" for i in made)  # every waiter was served, then released
    assert len(final) == len(made)  # and no retried request made a second lease
    assert usage_overlaps(tmp_path / "scheduler.db") == []


POINTS = ["before-connect", "after-connect", "before-boot", "boot-recorded", "after-boot",
          "before-wait_boot", "after-wait_boot", "before-prepare", "after-prepare", "before-run",
          "after-run", "before-collect", "after-collect", "before-cleanup", "after-cleanup",
          "before-publish", "after-publish"]


def job_plan(tmp_path, sleep: float = 0.0):
    import io
    import tarfile

    import yaml

    (tmp_path / "Image").write_bytes(b"kernel")
    with tarfile.open(tmp_path / "modules.tar.xz", "w:xz") as tar:
        info = tarfile.TarInfo("lib/modules/6.19.0-crash/kernel/x.ko")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    doc = {"sut": {"sutclass": "demo"},
           "swprofiles": [{"name": "crash", "kernel": "Image", "modules": "modules.tar.xz"}],
           "benchmarks": [{"include": "testing/busyloop.yaml", "params": {"sleep": sleep}}],
           "defaults": {"benchmark": {"warmups": 1, "repeats": 2, "sessions": 1}}}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path / "plan.yaml"


def check_ran_once(s, tmp_path, store_url):
    from fastpath.results.backend import open_store

    p = json.loads(s.cli("sched", "plan-list", "1", "--json").stdout)["plan"]
    assert p["state"] == "completed" and p["publishing"] == "done", p
    [job] = p["jobs"]
    runs = tmp_path / "sched_storage" / "results" / "plan-1" / f"job-{job['id']}" / "runs"
    starts = sorted(d.name for d in runs.iterdir())
    assert starts == ["0000", "0001", "0002"]  # a warmup and two repeats
    assert [(runs / d / "starts.log").read_text().count("started") for d in starts] == [1, 1, 1]
    store = open_store(store_url)
    [(sid, results, errors)] = list(store.sessions())  # published exactly once
    store.close()
    assert sid == job["session_id"] and len(results) == 4 and errors == []
    assert usage_overlaps(tmp_path / "scheduler.db") == []


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_every_recorded_step(point, scheduler, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = scheduler(boot="power_cycle", count=1, resultstore=store)
    markers = tmp_path / "markers"
    markers.mkdir()
    s.start(env={"FASTPATH_FAILPOINTS": point, "FASTPATH_FAILPOINT_DIR": str(markers)})
    s.login()
    s.cli("sched", "plan-exec", str(job_plan(tmp_path)))
    wait_until(lambda: (markers / point).exists(), timeout=90, what=f"the scheduler to reach {point}")
    s.stop(signal.SIGKILL)
    assert s.group_alive() == []
    s.start()
    wait_until(lambda: json.loads(s.cli("sched", "plan-list", "1", "--json").stdout)["plan"]
               ["publishing"] == "done", timeout=120, what="the plan to complete after the restart")
    check_ran_once(s, tmp_path, store)


@pytest.mark.parametrize("down_for", [0.0, 6.0], ids=["re-attach", "finished-while-down"])
def test_kill_9_while_a_long_benchmark_runs(down_for, scheduler, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = scheduler(boot="power_cycle", count=1, resultstore=store)
    s.start()
    s.login()
    s.cli("sched", "plan-exec", str(job_plan(tmp_path, sleep=1.5)))
    wait_until(lambda: any(j["step"] == "run" for j in json.loads(
        s.cli("sched", "plan-list", "1", "--json").stdout)["plan"]["jobs"]), what="the run")
    s.stop(signal.SIGKILL)  # the benchmark goes on, on the SUT
    time.sleep(down_for)
    s.start()
    wait_until(lambda: json.loads(s.cli("sched", "plan-list", "1", "--json").stdout)["plan"]
               ["publishing"] == "done", timeout=120, what="the plan to complete")
    check_ran_once(s, tmp_path, store)
