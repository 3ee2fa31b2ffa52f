"""Placement end to end: the real scheduler (`fastpath sched run`), real SSH SUTs, the real CLI.

Two plans compare baseline with candidate: each plan's `result show --plan`
differs from the pooled one, and a plan placed `spread` is balanced. Two
plans placed `same` land on different SUTs, and comparing across them warns.
A `same` plan whose SUT dies mid-plan finishes on the other SUT, and says so.
"""

from __future__ import annotations

import json

import yaml

from tests.e2e.test_plans import finished, plan, plan_file

QUICK = {"warmups": 0, "repeats": 2, "sessions": 2, "timeout": "10m"}
PAIR = [{"name": "baseline"}, {"name": "candidate"}]


def placed_plan(tmp_path, name: str, placement: str | None = None, swprofiles=PAIR, defaults=QUICK):
    path = plan_file(tmp_path, name=name, swprofiles=swprofiles, defaults=defaults)
    doc = yaml.safe_load(path.read_text())
    if placement:
        doc["sut"]["placement"] = placement
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run(s, token, path, wait_until, timeout=180) -> dict:
    out = s.cli("sched", "plan-exec", str(path), token=token).stdout
    id = int(out.split()[1])
    return wait_until(lambda: finished(s, id), timeout=timeout, interval=0.3, what=f"plan {id}")


def where(p: dict) -> dict[tuple[str, int], str]:
    return {(j["swprofile"], j["session"]): j["sut"] for j in p["jobs"]}


def test_each_plan_alone_differs_from_the_pool_and_spread_is_balanced(scheduler, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = scheduler(boot="none", resultstore=store)
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    plans = [run(s, alice, placed_plan(tmp_path, f"p{i}.yaml"), wait_until) for i in (1, 2)]
    for p in plans:
        assert p["state"] == "completed" and p["publishing"] == "done"
        at = where(p)
        for sw in ("baseline", "candidate"):  # each swprofile once on each SUT
            assert {at[(sw, 1)], at[(sw, 2)]} == {"sut-01", "sut-02"}, at
        for k in (1, 2):  # and each session's two swprofiles side by side
            assert at[("baseline", k)] != at[("candidate", k)], at

    compare = ("result", "show", store, "--swprofile", "baseline", "--swprofile", "candidate")
    pooled = s.cli(*compare).stdout
    assert pooled.splitlines()[0].startswith("Note: these results pool 2 plans")
    alone = [s.cli(*compare, "--plan", str(p["id"])).stdout for p in plans]
    for text in alone:
        assert "pool" not in text and "Warning" not in text
        assert text != pooled
    sessions = [json.loads(s.cli(*compare, *scope, "--json").stdout)["comparison"][0]["changes"]
                ["candidate"]["sessions"] for scope in ((), ("--plan", "1"), ("--plan", "2"))]
    assert sessions == [4, 2, 2]


def test_same_places_two_plans_on_different_suts_and_comparing_across_them_warns(
        scheduler, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = scheduler(boot="none", resultstore=store)
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    for name, sw in (("base.yaml", [PAIR[0]]), ("cand.yaml", [PAIR[1]])):
        s.cli("sched", "plan-exec", str(placed_plan(tmp_path, name, "same", swprofiles=sw)), token=alice)
    one, two = (wait_until(lambda id=id: finished(s, id), timeout=180, what=f"plan {id}") for id in (1, 2))
    home = [set(where(p).values()) for p in (one, two)]
    assert len(home[0]) == 1 and len(home[1]) == 1 and home[0] != home[1]  # each on its own SUT
    (a,), (b,) = home
    shown = s.cli("result", "show", store, "--swprofile", "baseline", "--swprofile", "candidate",
                  "--plan", "1", "--plan", "2").stdout
    assert (f"Warning: unbalanced placement (baseline on {a} x2; candidate on {b} x2): a change may "
            "be the SUTs', not the swprofiles'.") in shown.splitlines()
    assert "fell back" not in shown


def test_same_falls_back_when_its_sut_dies_mid_plan_and_the_results_say_so(
        scheduler, suts, tmp_path, wait_until):
    store = f"sqlite:///{tmp_path}/results.db"
    s = scheduler(boot="none", resultstore=store)
    s.start()
    s.login()
    alice = s.user("alice", "exec,query")
    path = placed_plan(tmp_path, "same.yaml", "same", swprofiles=[{"name": "own"}],
                       defaults={**QUICK, "sessions": 3})
    s.cli("sched", "plan-exec", str(path), token=alice)
    first = wait_until(lambda: next((j for j in plan(s, 1)["jobs"] if j["state"] == "completed"), None),
                       timeout=120, what="the first job")
    victim = suts.sut(first["sut"])
    victim.stop()  # its sshd and everything on it: the SUT the plan waits for is gone
    try:
        done = wait_until(lambda: finished(s, 1), timeout=180, interval=0.3, what="the plan to end")
        assert done["state"] == "completed" and done["publishing"] == "done"
        other = ({"sut-01", "sut-02"} - {victim.name}).pop()
        at = where(done)
        assert at[("own", 1)] == victim.name and at[("own", 3)] == other  # nothing waited forever
        note = f"placement same fell back: {victim.name} is unhealthy; ran on {other}"
        late = [j for j in done["jobs"] if j["sut"] == other]
        assert late and all(j["placement"] == note for j in late)
        shown = s.cli("result", "show", store, "--plan", "1").stdout
        assert f"Note: plan 1: {note}." in shown.splitlines()
        assert f"Note: plan 1: {note}." in json.loads(
            s.cli("result", "show", store, "--plan", "1", "--json").stdout)["notes"]
    finally:
        victim.start()
