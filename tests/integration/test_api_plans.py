"""`/plans` on every backend: submission, listing, priority, cancel, and hostile input."""

from __future__ import annotations

import json

import pytest

from fastpath.core.states import JobState
from fastpath.store.models import Job, Plan, Sut
from fastpath.store.queries import inventory, jobs
from tests.integration.api_helpers import Api, make_healthy, submit

GUIDE = {
    "sut": {"sutclass": "demo"},
    "swprofiles": [{"name": "baseline", "kernel": "Image", "modules": "modules.tar.xz"}],
    "benchmarks": [{"include": "speedometer/v2.1.yaml"}, {"include": "mmtests/kernbench.yaml"}],
    "defaults": {"benchmark": {"warmups": 1, "repeats": 3, "sessions": 3, "timeout": "1h"}},
}


@pytest.fixture
def api(database, clock, tmp_path):
    api = Api(clock, tmp_path / "storage", max_upload=10_000)
    (tmp_path / "key").write_text("x")
    inventory.sync_inventory(_classes(tmp_path), clock())
    make_healthy(clock())
    api.user("alice", "exec,query")
    api.user("carol", "exec,query")
    api.user("bob", "lease,query")
    return api


def _classes(tmp_path):
    """demo: two SUTs booted by power_cycle; bare: one SUT that boots nothing."""
    import yaml

    from fastpath.core.sutclass import parse

    key = tmp_path / "key"
    doc = [{"sutclass": name, "type": "static", "params": {
        "boot": boot, **({"power_cycle": ["true"]} if boot == "power_cycle" else {}),
        "suts": [{"name": f"{name}-{i:02d}", "connection": {"method": "SSH", "params": {
            "host": f"192.0.2.{i}", "keyfile": str(key)}}} for i in range(1, n + 1)]}}
        for name, n, boot in (("demo", 2, "power_cycle"), ("bare", 1, "none"))]
    return parse(yaml.safe_dump(doc), source="s", base=tmp_path)


@pytest.fixture
def files(tmp_path):
    kernel, modules = tmp_path / "Image", tmp_path / "modules.tar.xz"
    kernel.write_bytes(b"kernel" * 100)
    modules.write_bytes(b"modules" * 100)
    return {"swprofiles[0].kernel": kernel, "swprofiles[0].modules": modules}


def test_the_guides_plan(api, files, tmp_path):
    r = submit(api, GUIDE, files, who="alice", priority=8)
    assert r.status_code == 201, r.json
    plan = r.json["plan"]
    assert (plan["user"], plan["sutclass"], plan["priority"], plan["state"]) == ("alice", "demo", 8, "queued")
    assert plan["publishing"] == "pending"  # its results are still to come
    assert plan["progress"] == {"completed": 0, "total": 3, "failed": 0, "cancelled": 0, "queued": 3,
                                "running": 0, "results": 0, "errors": 0}
    stored = Plan.get_by_id(plan["id"]).document
    sw = stored["swprofiles"][0]
    assert sw["kernel"].startswith("sha256:") and sw["modules"].startswith("sha256:")
    import hashlib

    assert sw["kernel"] == "sha256:" + hashlib.sha256(files["swprofiles[0].kernel"].read_bytes()).hexdigest()
    assert (tmp_path / "storage" / "blobs" / sw["kernel"][7:9] / sw["kernel"][7:]).is_file()
    assert [b["timeout"] for b in stored["benchmarks"]] == [3600.0, 3600.0]
    rows = list(Job.select().where(Job.plan == plan["id"]).order_by(Job.id))
    assert [(j.session, j.swprofile, j.priority) for j in rows] == [(1, 0, 8), (2, 0, 8), (3, 0, 8)]
    detail = api.get(f"/plans/{plan['id']}", who="bob").json["plan"]  # query can read
    assert [j["swprofile"] for j in detail["jobs"]] == ["baseline"] * 3
    again = submit(api, GUIDE, files, who="alice", publish=False)
    assert again.json["plan"]["publish"] is False and again.json["plan"]["publishing"] == "skipped"
    assert len(list((tmp_path / "storage" / "blobs").rglob("*"))) == 4  # 2 dirs, 2 files: deduplicated


def test_json_submission_without_files(api):
    plan = {"sut": {"sutclass": "bare"}, "swprofiles": [{"name": "own"}],
            "benchmarks": [{"include": "testing/busyloop.yaml"}]}
    r = api.post("/plans", {"plan": plan, "priority": 2, "publish": False}, who="alice")
    assert r.status_code == 201 and r.json["plan"]["progress"]["total"] == 1


def test_listing_defaults_update_and_cancel(api, files, clock):
    a = submit(api, GUIDE, files, who="alice").json["plan"]["id"]
    c = submit(api, GUIDE, files, who="carol").json["plan"]["id"]

    def ids(who="alice", **params):
        return [p["id"] for p in api.get("/plans", who=who, **params).json["plans"]]

    assert ids() == [a] and ids(all_users="true") == [a, c] and ids(users="carol") == [c]
    r = api.patch(f"/plans/{c}", {"priority": 9}, who="alice")
    assert r.status_code == 403 and "belongs to another user" in r.json["description"]
    assert api.patch(f"/plans/{a}", {"priority": 9}, who="bob").status_code == 403  # no exec
    r = api.patch(f"/plans/{a}", {"priority": 9}, who="alice")
    assert r.status_code == 200 and r.json["plan"]["priority"] == 9
    assert {j.priority for j in Job.select().where(Job.plan == a)} == {9}
    assert api.patch(f"/plans/{a}", {"priority": 11}, who="alice").status_code == 400
    # one job of `a` is running; cancelling cancels the queued ones and lets it finish
    sut = Sut.select().where(Sut.sutclass == inventory.get_class("demo").id).first()
    first = Job.select().where(Job.plan == a).order_by(Job.id).first()
    assert jobs.assign_job(first.id, sut.id, clock())
    r = api.post(f"/plans/{a}/cancel", who="alice")
    assert r.status_code == 200
    plan = r.json["plan"]
    assert plan["state"] == "running" and plan["cancel_requested"] is True
    assert [j["state"] for j in plan["jobs"]] == ["assigned", "cancelled", "cancelled"]
    assert ids(all_states="true", states="cancelled") == []
    jobs.finish_job(Job.get_by_id(first.id), JobState.COMPLETED, clock(), publish=False)
    assert Plan.get_by_id(a).state == "cancelled"
    r = api.post(f"/plans/{a}/cancel", who="alice")
    assert r.status_code == 409 and "already cancelled" in r.json["description"]
    assert api.patch(f"/plans/{a}", {"priority": 1}, who="alice").status_code == 409
    assert api.post(f"/plans/{c}/cancel").json["plan"]["state"] == "cancelled"  # admin may


def test_a_retried_submission_queues_one_plan(api, files):
    from fastpath.cli.plans import Upload

    upload = Upload(GUIDE, files, {})
    body = b"".join(upload.chunks())
    headers = {"Content-Type": upload.content_type, "Idempotency-Key": "k1"}
    first = api.post("/plans", body, who="alice", headers=headers)
    again = api.post("/plans", body, who="alice", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["plan"]["id"] == again.json["plan"]["id"] and Plan.select().count() == 1


def multipart(parts: list[tuple[str, bytes, str | None]]) -> tuple[bytes, str]:
    boundary = "b0undary"
    body = b""
    for name, data, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def plan_with(**changes) -> dict:
    doc = json.loads(json.dumps(GUIDE))
    for path, value in changes.items():
        node, *rest = path.split(".")
        target = doc
        keys = [node, *rest]
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return doc


HOSTILE = [
    ("traversal in an upload name",
     lambda f: multipart([("plan", json.dumps(GUIDE).encode(), None),
                          ("../../etc/passwd", b"x", "passwd")]), 400, "unexpected form part"),
    ("an include that climbs out of the library",
     lambda f: ("json", plan_with(**{"benchmarks.0": {"include": "../../../etc/passwd.yaml"}})),
     400, "benchmarks[0].include"),
    ("an absolute include", lambda f: ("json", plan_with(**{"benchmarks.0": {"include": "/etc/x.yaml"}})),
     400, "benchmarks[0].include"),
    ("a kernel for a class that boots nothing",
     lambda f: ("files", plan_with(**{"sut.sutclass": "bare"}), f), 400, "swprofiles[0].kernel"),
    ("a server-side path that was not uploaded", lambda f: ("json", GUIDE), 400,
     "swprofiles[0].kernel: refers to a file that was not uploaded"),
    ("an upload for a field the plan does not set",
     lambda f: ("files", plan_with(**{"swprofiles.0.modules": None}), f), 400,
     "swprofiles[0].modules: an upload for a field the plan does not set"),
    ("malformed JSON in the plan part", lambda f: multipart([("plan", b"{nope", None)]), 400,
     "malformed JSON"),
    ("huge numbers", lambda f: ("json", plan_with(**{"defaults.benchmark.repeats": 10**12})), 400,
     "defaults.benchmark.repeats"),
    ("a negative priority", lambda f: ("priority", -1), 400, "priority"),
    ("an unknown SUT class", lambda f: ("json", plan_with(**{"sut.sutclass": "nope"})), 404,
     "no SUT class named 'nope'"),
    ("a connection instead of a class",
     lambda f: ("json", plan_with(**{"sut": {"connection": {"method": "SSH"}}})), 400,
     "sut.connection"),
    ("the same file part twice",
     lambda f: multipart([("plan", json.dumps(GUIDE).encode(), None),
                          ("swprofiles[0].kernel", b"a", "k"), ("swprofiles[0].kernel", b"b", "k")]),
     400, "given twice"),
    ("no plan part", lambda f: multipart([("priority", b"5", None)]), 400, "plan: required"),
    ("an upload larger than the limit",
     lambda f: multipart([("plan", json.dumps(GUIDE).encode(), None),
                          ("swprofiles[0].kernel", b"k" * 20_000, "Image")]), 413, "larger than the limit"),
]


@pytest.mark.parametrize("make, status, words", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_and_nothing_is_stored(api, files, tmp_path, make, status, words):
    made = make(files)
    if made[0] == "json":
        r = api.post("/plans", {"plan": made[1]}, who="alice")
    elif made[0] == "files":
        r = submit(api, made[1], made[2], who="alice")
    elif made[0] == "priority":
        r = submit(api, GUIDE, files, who="alice", priority=made[1])
    else:
        body, content_type = made
        r = api.post("/plans", body, who="alice", headers={"Content-Type": content_type})
    assert r.status_code == status, r.json
    assert r.json["status"] == "error" and words in r.json["description"]
    assert Plan.select().count() == 0 and Job.select().count() == 0
    assert list((tmp_path / "storage" / "tmp").iterdir()) == []  # no half-written upload


def test_a_declared_size_over_the_limit_is_refused_before_reading(api):
    r = api.post("/plans", b"", who="alice",
                 headers={"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "999999"})
    assert r.status_code == 413


def test_a_plan_names_its_resultstore_with_the_password_masked(database, clock, tmp_path, files):
    from fastpath.cli.plans import show

    api = Api(clock, tmp_path / "storage", resultstore="mysql://lab:s3cret@db.example:3306/results")
    (tmp_path / "key").write_text("x")
    inventory.sync_inventory(_classes(tmp_path), clock())
    api.user("alice", "exec,query")
    plan = submit(api, GUIDE, files, who="alice").json["plan"]
    detail = api.get(f"/plans/{plan['id']}").json["plan"]
    assert detail["resultstore"] == "mysql://lab:***@db.example:3306/results"
    assert "s3cret" not in json.dumps(api.get("/plans").json)
    text = show(detail)
    assert (f"Show results: fastpath result show 'mysql://lab:***@db.example:3306/results' "
            f"--plan {plan['id']}") in text.splitlines()
    quiet = submit(api, GUIDE, files, who="alice", publish=False).json["plan"]
    assert api.get(f"/plans/{quiet['id']}").json["plan"]["resultstore"] is None
    assert "Show results" not in show(api.get(f"/plans/{quiet['id']}").json["plan"])


def test_a_user_may_have_so_many_queued_jobs_and_a_plan_past_it_stores_nothing(
        database, clock, tmp_path, files):
    api = Api(clock, tmp_path / "storage", max_upload=10_000, max_queued_jobs=12)
    (tmp_path / "key").write_text("x")
    inventory.sync_inventory(_classes(tmp_path), clock())
    api.user("alice", "exec,query")
    api.user("carol", "exec,query")
    first = submit(api, GUIDE, files, who="alice")  # 1 swprofile x 3 sessions: 3 jobs
    assert first.status_code == 201, first.json
    assert first.json["plan"]["progress"]["total"] == 3
    big = {**GUIDE, "defaults": {"benchmark": {**GUIDE["defaults"]["benchmark"], "sessions": 10}}}
    blobs = sorted(p.name for p in (tmp_path / "storage").rglob("*") if p.is_file())
    r = submit(api, big, files, who="alice")
    assert r.status_code == 409, r.json
    assert r.json["description"] == (
        "too many queued jobs: user 'alice' has 3 queued and this plan adds 10; the limit is 12 "
        "queued jobs per user (the scheduler's --max-queued-jobs); wait for some to run, or "
        "cancel a plan")
    r = api.post("/plans", {"plan": {**big, "swprofiles": [{"name": "b"}]}}, who="alice")
    assert r.status_code == 409 and "the limit is 12" in r.json["description"]
    assert Plan.select().count() == 1 and Job.select().count() == 3
    assert sorted(p.name for p in (tmp_path / "storage").rglob("*") if p.is_file()) == blobs
    assert submit(api, big, files, who="carol").status_code == 201  # a limit per user
    assert api.post(f"/plans/{first.json['plan']['id']}/cancel", who="alice").status_code == 200
    assert submit(api, big, files, who="alice").status_code == 201  # cancelled jobs do not count
