"""A queue that explains itself, with one real scheduler shared by the module's tests.

The real `fastpath sched run`, the real CLI, real sshd SUTs, real podman.
Each test leaves both SUTs free and every plan final for the next one.
"""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from tests.e2e.conftest import FAST
from tests.e2e.scheduler import Scheduler
from tests.e2e.test_plans import plan_file


@pytest.fixture(scope="module")
def lab(tmp_path_factory, testbed, busyloop):
    """One scheduler (class demo: the first two test SUTs, boot none) and its users."""
    tmp = tmp_path_factory.mktemp("queue-lab")
    testbed.write_sutclasses(tmp / "sutclasses.yaml", "demo", boot="none", suts=testbed.suts[:2],
                             boot_timeout="20s")
    s = Scheduler(tmp)
    s.start(env={"FASTPATH_TUNING": FAST})
    s.login()
    s.tokens = {name: s.user(name, caps) for name, caps in
                (("alice", "exec,query"), ("bob", "lease,query"), ("carol", "lease,query"),
                 ("dave", "lease"))}
    s.tmp = tmp
    yield s
    s.stop(signal.SIGKILL)


def until(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return value


def api(s, who: str):
    return s.client(s.tokens[who])


def final(s, id: int) -> dict | None:
    p = api(s, "alice").get(f"/plans/{id}")["plan"]
    return p if p["state"] in ("completed", "failed", "cancelled") else None


def submit(s, path, who="alice") -> int:
    out = s.cli("sched", "plan-exec", str(path), "--json", token=s.tokens[who]).stdout
    return json.loads(out)["plan"]["id"]


def test_a_plan_behind_two_leases_says_who_holds_them(lab):
    s = lab
    bob, carol = s.tokens["bob"], s.tokens["carol"]
    held = [json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json", token=bob).stdout)
            ["lease"] for _ in range(2)]
    names = sorted(x["sut"]["name"] for x in held)
    quick = {"warmups": 0, "repeats": 1, "sessions": 2}
    path = plan_file(s.tmp, name="behind.yaml", defaults=quick, swprofiles=[{"name": "behind"}],
                     benchmarks=[{"include": "testing/busyloop.yaml", "params": {"duration": 1}}])
    plan_id = submit(s, path)

    p = api(s, "alice").get(f"/plans/{plan_id}")["plan"]
    assert "queue" in p, json.dumps(p)
    q = p["queue"]
    assert q["position"] == 1
    for name in names:
        assert f"{name} leased by bob until " in q["reason"]
    expiries = [x.get("expires_at") for x in held]
    # with lease time limits (the lease-expiry work) the plan starts when the first one ends
    assert q["eta"] == (min(expiries) if all(expiries) else "unknown")
    shown = s.cli("sched", "plan-list", str(plan_id)).stdout
    assert "Queue position: 1" in shown.replace("  ", " ")
    assert "Waiting for:" in shown and f"2 SUTs in demo: {names[0]} leased by bob" in shown
    assert "Expected start:" in shown
    listing = s.cli("sched", "plan-list", token=s.tokens["alice"]).stdout
    row = next(line.split() for line in listing.splitlines()[1:] if line.split()[0] == str(plan_id))
    assert row[8] == "1"  # POSITION, then EXPECTED START

    # a person waiting is told where she stands: behind the plan's first job, and before its
    # second one (fairness: alice would then hold a SUT, carol none)
    waiter = s.spawn("sched", "lease-acquire", "demo", "--wait", "--json", token=carol)
    mine = until(lambda: [x for x in api(s, "carol").get("/leases")["leases"]
                          if x["state"] == "queued"], what="carol's lease to be queued")[0]
    assert mine["position"] == 2 and "1 ahead in the queue" in mine["reason"]
    rows = s.cli("sched", "lease-list", "--all-users", token=carol).stdout
    assert "POSITION" in rows and "EXPECTED START" in rows
    one = s.cli("sched", "lease-list", str(mine["id"]), token=carol).stdout
    assert "Queue position: 2" in one.replace("  ", " ") and "Waiting for:" in one

    for x in held:
        s.cli("sched", "lease-release", str(x["id"]), token=bob)
    out, err = waiter.communicate(timeout=120)
    got = json.loads(out)["lease"]
    assert got["state"] == "acquired"
    assert "position 2 in the queue (2 SUTs in demo: " in err and "expected start" in err
    s.cli("sched", "lease-release", str(got["id"]), token=carol)
    assert until(lambda: final(s, plan_id), what="the plan to end")["state"] == "completed"


def test_a_plan_of_known_benchmarks_is_given_an_eta_from_their_durations(lab):
    s = lab
    bench = [{"include": "testing/busyloop.yaml", "params": {"duration": 3}}]
    first = submit(s, plan_file(s.tmp, name="learn1.yaml", swprofiles=[{"name": "l1"}],
                                defaults={"warmups": 0, "repeats": 1, "sessions": 2},
                                benchmarks=bench))
    until(lambda: final(s, first), what="the first plan to end")
    second = submit(s, plan_file(s.tmp, name="learn2.yaml", swprofiles=[{"name": "l2"}],
                                 defaults={"warmups": 0, "repeats": 1, "sessions": 4},
                                 benchmarks=bench))

    def two_running():
        p = api(s, "alice").get(f"/plans/{second}")["plan"]
        if p["progress"]["running"] == 2 and p["progress"]["queued"] == 2:
            return p
    p = until(two_running, what="two jobs running, two queued")
    q = p["queue"]
    assert q["eta"] != "unknown"  # learnt from the first plan's jobs of the same benchmark
    assert q["reason"].count(f"running plan {second} job") == 2
    assert "expected until" in q["reason"]
    assert p["queued_at"] <= q["eta"]
    assert until(lambda: final(s, second), timeout=120, what="the second plan")["state"] == "completed"


def test_a_failing_benchmark_shows_in_job_log_and_plan_list_and_nothing_is_pulled(lab):
    s = lab
    alice = s.tokens["alice"]
    absent = {"suite": "testing", "name": "absent", "type": "container",
              "image": "localhost/fastpath-absent:1"}  # not on the SUT: never pulled
    path = plan_file(s.tmp, name="failing.yaml", swprofiles=[{"name": "f"}],
                     defaults={"warmups": 0, "repeats": 1, "sessions": 1},
                     benchmarks=[{"include": "testing/busyloop.yaml", "params": {"exit_code": 3}},
                                 absent])
    plan_id = submit(s, path)
    done = until(lambda: final(s, plan_id), timeout=120, what="the failing plan")
    assert done["state"] == "completed" and done["progress"]["errors"] == 2
    [job] = done["jobs"]
    shown = s.cli("sched", "plan-list", str(plan_id), token=alice).stdout
    assert (f"Last error:     job {job['id']}: testing/absent repeat 0: the container exited "
            "with status 125") in shown

    listed = s.cli("sched", "job-list", str(plan_id), token=alice).stdout
    assert listed.splitlines()[0].split()[:7] == ["JOB", "SWPROFILE", "SESSION", "STATE", "SUT",
                                                  "ATTEMPTS", "STEPS"]
    assert "connect " in listed and "run " in listed and "cleanup " in listed
    steps = json.loads(s.cli("sched", "job-list", str(plan_id), "--json", token=alice).stdout)
    [j] = steps["jobs"]
    assert [x["step"] for x in j["steps"]][:1] == ["connect"] and j["steps"][-1]["step"] == "cleanup"
    assert all(x["seconds"] is not None and x["seconds"] >= 0 for x in j["steps"])

    # anyone with query reads it (carol is not the owner); a request names a job, never a file
    log = s.cli("sched", "job-log", str(job["id"]), token=s.tokens["carol"]).stdout
    assert "Driver log:" in log and "driver started" in log
    assert "Failed run: testing/busyloop repeat 0: exit status 3: the container exited with status 3" in log
    assert "busyloop: failing with status 3 as asked" in log
    assert "Failed run: testing/absent repeat 0: exit status 125" in log
    assert "image not known" in log and "registry" not in log  # --pull=never: no registry asked
    denied = s.cli("sched", "job-log", str(job["id"]), token=s.tokens["dave"], check=False)
    assert denied.returncode == 3
    doc = json.loads(s.cli("sched", "job-log", str(job["id"]), "--json", "--lines", "1",
                           token=alice).stdout)
    assert [len(r["output"]) for r in doc["log"]["failed_runs"]] == [1, 1]
    from fastpath import errors
    with pytest.raises(errors.Invalid, match="unknown query parameter 'path'"):
        api(s, "alice").request("GET", f"/jobs/{job['id']}/log", params={"path": "/etc/passwd"})
    with pytest.raises(errors.NotFound):
        api(s, "alice").get("/jobs/999999/log")


def test_plan_exec_wait_follows_the_plan_and_says_how_it_ended_while_lists_watch(lab):
    s = lab
    alice, bob = s.tokens["alice"], s.tokens["bob"]
    plans_seen = s.spawn("sched", "plan-list", "--all-states", "--watch", "--interval", "0.3",
                         token=alice)
    leases_seen = s.spawn("sched", "lease-list", "--watch", "--interval", "0.3", token=bob)
    quick = {"warmups": 0, "repeats": 1, "sessions": 1}
    # a swprofile that would change this very machine's sysctls: the guard fails its job
    bad = plan_file(s.tmp, name="guarded.yaml", defaults=quick,
                    swprofiles=[{"name": "g", "sysctl": ["vm.swappiness=10"]}])
    failed = s.cli("sched", "plan-exec", str(bad), "--wait", token=alice, check=False)
    assert failed.returncode == 1, failed.stderr
    assert "Status:         failed" in failed.stdout
    assert "refusing to apply sysctl settings" in failed.stdout  # its last error
    assert re.search(r"plan \d+: failed, 0/1 jobs completed, 0 running, 1 failed", failed.stderr)

    good = plan_file(s.tmp, name="good.yaml", defaults=quick, swprofiles=[{"name": "ok"}])
    done = s.cli("sched", "plan-exec", str(good), "--wait", "--json", token=alice)
    plan = json.loads(done.stdout[done.stdout.index("{"):])["plan"]
    assert plan["state"] == "completed" and done.returncode == 0
    assert f"plan {plan['id']}: completed, 1/1 jobs completed" in done.stderr

    lease = json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json", token=bob).stdout)
    lease = lease["lease"]
    until(lambda: api(s, "bob").get(f"/leases/{lease['id']}")["lease"]["state"] == "acquired")
    time.sleep(1)  # the watchers look every 0.3 s: let them see it
    s.cli("sched", "lease-release", str(lease["id"]), token=bob)
    time.sleep(1)
    for proc in (plans_seen, leases_seen):
        proc.send_signal(signal.SIGINT)
    plans_out, _ = plans_seen.communicate(timeout=30)
    leases_out, _ = leases_seen.communicate(timeout=30)
    assert plans_seen.returncode == 0 and leases_seen.returncode == 0
    snapshots = plans_out.strip().split("\n\n")
    assert len(snapshots) >= 2 and all(x.startswith("ID") for x in snapshots)
    last = {line.split()[0]: line.split()[5] for line in snapshots[-1].splitlines()[1:]}
    assert last[str(plan["id"])] == "completed"
    earlier = [dict((line.split()[0], line.split()[5]) for line in x.splitlines()[1:])
               for x in snapshots[:-1]]
    assert any(e.get(str(plan["id"])) in ("queued", "running") for e in earlier)
    tables = leases_out.strip().split("\n\n")
    assert any(f"\n{lease['id']} " in t and " acquired " in t for t in tables)
    assert tables[-1].strip().count("\n") == 0  # released: gone from the default listing


def test_a_drained_sut_takes_no_new_job_while_its_running_job_completes(lab):
    s = lab
    path = plan_file(s.tmp, name="drain.yaml", swprofiles=[{"name": "d"}],
                     defaults={"warmups": 0, "repeats": 1, "sessions": 4},
                     benchmarks=[{"include": "testing/busyloop.yaml", "params": {"sleep": 2}}])
    plan_id = submit(s, path)

    def running():
        p = api(s, "alice").get(f"/plans/{plan_id}")["plan"]
        on = [j for j in p["jobs"] if j["state"] == "running" and j["step"] == "run"]
        return on if on else None
    job = until(running, what="a job running its benchmark")[0]
    drained = job["sut"]
    out = s.cli("sched", "sut-update", drained, "--maintenance", "--reason", "new DIMMs").stdout
    assert out.strip() == (f"SUT {drained} is maintenance (drained); job {job['id']} (alice) "
                           "finishes first.")
    drained_at = json.loads(s.cli("sched", "sut-list", "demo", "--json").stdout)["suts"]
    drained_at = next(x for x in drained_at if x["name"] == drained)["maintenance"]["drained_at"]
    listing = s.cli("sched", "sut-list", "demo").stdout
    row = next(line for line in listing.splitlines() if line.startswith(drained))
    assert "maintenance" in row and "drained by admin: new DIMMs" in row

    done = until(lambda: final(s, plan_id), timeout=120, what="the plan")
    assert done["state"] == "completed"
    jobs = {j["id"]: j for j in done["jobs"]}
    assert jobs[job["id"]]["state"] == "completed" and jobs[job["id"]]["sut"] == drained
    later = [j for j in jobs.values() if j["assigned_at"] > drained_at]
    assert later and all(j["sut"] != drained for j in later)

    # the drain is stored: a restarted scheduler keeps it
    s.stop()
    s.start(env={"FASTPATH_TUNING": FAST})
    suts = json.loads(s.cli("sched", "sut-list", "--json").stdout)["suts"]
    again = next(x for x in suts if x["name"] == drained)
    assert again["health"] == "maintenance" and again["maintenance"]["drained"]
    s.cli("sched", "sut-update", drained, "--no-maintenance")
    until(lambda: next(x for x in json.loads(s.cli("sched", "sut-list", "--json").stdout)["suts"]
                       if x["name"] == drained)["health"] == "healthy", what="the SUT back")


def test_users_from_the_cli(lab):
    s = lab
    listing = s.cli("sched", "user-list").stdout.splitlines()
    assert listing[0].split() == ["ID", "NAME", "CAPABILITIES", "DISABLED", "CREATED"]
    assert [line.split()[1] for line in listing[1:]] == ["admin", "alice", "bob", "carol", "dave"]
    denied = s.cli("sched", "user-list", token=s.tokens["alice"], check=False)
    assert denied.returncode == 3
    out = s.cli("sched", "user-update", "dave", "--disable").stdout
    assert out.strip() == "User dave: capabilities lease, disabled"
    assert s.cli("sched", "lease-list", token=s.tokens["dave"], check=False).returncode == 3
    s.cli("sched", "user-update", "dave", "--enable", "--capabilities", "lease,query")
    out = s.cli("sched", "user-update", "dave", "--rotate-token").stdout
    new = out.strip().splitlines()[-1].removeprefix("New token: ")
    assert s.cli("sched", "lease-list", token=s.tokens["dave"], check=False).returncode == 3
    assert s.cli("sched", "lease-list", token=new).returncode == 0
    s.tokens["dave"] = new
    users = json.loads(s.cli("sched", "user-list", "--json").stdout)["users"]
    assert next(u for u in users if u["name"] == "dave")["capabilities"] == "lease,query"


def test_event_list_is_the_audit_trail(lab):
    s = lab
    s.cli("sched", "user-update", "carol", "--disable")
    s.cli("sched", "user-update", "carol", "--enable")
    out = s.cli("sched", "event-list", "--user", "carol", "--kind", "user",
                token=s.tokens["alice"]).stdout.splitlines()
    assert out[0].split() == ["ID", "AT", "ACTOR", "KIND", "REF", "FROM", "TO", "DETAIL"]
    assert any(" enabled " in line and " disabled" in line for line in out[1:])
    doc = json.loads(s.cli("sched", "event-list", "--user", "carol", "--kind", "user", "--json",
                           token=s.tokens["alice"]).stdout)
    changes = [(e["actor"], e["from"], e["to"]) for e in doc["events"] if e["from"]]
    assert changes[-2:] == [("admin", "enabled", "disabled"), ("admin", "disabled", "enabled")]
    assert doc["events"][0]["to"] == "created" and doc["events"][0]["name"] == "carol"


def test_url_and_token_from_the_environment_then_the_preferences(lab, tmp_path):
    import os
    import subprocess
    import sys

    s = lab

    def run(*args, env=None, config=None):
        full = {**os.environ, "XDG_CONFIG_HOME": str(config or tmp_path / "empty"),
                "HOME": str(tmp_path), **(env or {})}
        return subprocess.run([sys.executable, "-m", "fastpath", *args], capture_output=True,
                              text=True, env=full, timeout=60)

    bob = {"FASTPATH_URL": s.url, "FASTPATH_TOKEN": s.tokens["bob"]}
    got = run("sched", "lease-acquire", "demo", "--wait", "--json", env=bob)
    assert got.returncode == 0, got.stderr
    s.cli("sched", "lease-release", str(json.loads(got.stdout)["lease"]["id"]), token=s.tokens["bob"])
    done = run("sched", "lease-list", "--json", "--all-states", env=bob)
    assert done.returncode == 0, done.stderr
    assert {x["user"] for x in json.loads(done.stdout)["leases"]} == {"bob"}
    # an option beats the environment
    assert run("sched", "lease-list", "--token", "fpt_wrong", env=bob).returncode == 3
    # the environment beats the preferences (the lab's saved ones are the admin's)
    done = run("sched", "user-list", env=bob, config=s.config)
    assert done.returncode == 3  # bob is no admin
    assert run("sched", "user-list", config=s.config).returncode == 0
    missing = run("sched", "lease-list")
    assert missing.returncode == 2 and "no scheduler URL" in missing.stderr


def test_shell_completion_scripts_complete_verbs_and_options(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fastpath").write_text(f"#!/bin/sh\nexec {sys.executable} -m fastpath \"$@\"\n")
    (bin_dir / "fastpath").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}

    def bash(line: str, cword: int) -> list[str]:
        script = ('eval "$(fastpath completion bash)"; COMP_WORDS=(' + line + f'); COMP_CWORD={cword}; '
                  '_fastpath_completion fastpath; printf "%s\\n" "${COMPREPLY[@]}"')
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    assert bash("fastpath sched job", 2) == ["job-list", "job-log"]
    assert "--wait" in bash("fastpath sched plan-exec --w", 3)
    assert bash("fastpath compl", 1) == ["completion"]
    for shell, mark in (("zsh", "compdef _fastpath_completion fastpath"),
                        ("fish", "complete --no-files --command fastpath")):
        out = subprocess.run(["fastpath", "completion", shell], capture_output=True, text=True,
                             env=env, timeout=60)
        assert out.returncode == 0 and mark in out.stdout
    assert shutil.which("bash")
