"""`/blobs` on every backend: uploads by digest, who may refer to them, dry runs, the sweep."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from fastpath.control.sweeper import Sweeper
from fastpath.store.files import Storage
from fastpath.store.models import BlobOwner, Plan
from tests.integration.api_helpers import submit
from tests.integration.test_api_plans import GUIDE
from tests.integration.test_api_plans import api as api  # noqa: F401  # the fixture

KERNEL, MODULES = b"kernel" * 100, b"modules" * 100


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put(api, data: bytes, who: str = "alice", name: str | None = None):
    return api.client.simulate_put(f"/blobs/{name or digest(data)}", body=data,
                                   headers={**api._h(who), "Content-Type": "application/octet-stream"})


def missing(api, digests: list[str], who: str = "alice") -> list[str]:
    r = api.post("/blobs/missing", {"digests": digests}, who=who)
    assert r.status_code == 200, r.json
    return r.json["missing"]


def by_digest(plan: dict) -> dict:
    return {**plan, "swprofiles": [{**plan["swprofiles"][0], "kernel": digest(KERNEL),
                                    "modules": digest(MODULES)}]}


def stored(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "storage" / "blobs").glob("*/*"))


def test_upload_then_submit_by_digest(api, tmp_path):
    wanted = [digest(KERNEL), digest(MODULES)]
    assert missing(api, wanted) == wanted
    for data in (KERNEL, MODULES):
        r = put(api, data)
        assert r.status_code == 201, r.json
        assert r.json["blob"] == {"digest": digest(data), "size": len(data)}
    assert missing(api, wanted) == []
    r = api.post("/plans", {"plan": by_digest(GUIDE), "priority": 7}, who="alice")
    assert r.status_code == 201, r.json
    doc = Plan.get_by_id(r.json["plan"]["id"]).document
    assert doc["swprofiles"][0]["kernel"] == digest(KERNEL)
    assert (tmp_path / "storage" / "tmp").exists() and not list((tmp_path / "storage" / "tmp").iterdir())


def test_a_body_that_is_not_its_digest_is_refused_and_leaves_nothing(api, tmp_path):
    r = put(api, KERNEL, name=digest(b"something else"))
    assert r.status_code == 400, r.json
    assert "sha256:" in r.json["description"]
    assert stored(tmp_path) == [] and not list((tmp_path / "storage" / "tmp").iterdir())
    assert BlobOwner.select().count() == 0
    assert put(api, KERNEL, name="sha256:xyz").status_code in (400, 404)
    r = api.post("/blobs/missing", {"digests": ["md5:00"]}, who="alice")
    assert r.status_code == 400 and "digests[0]" in r.json["description"]


def test_too_large_is_refused_before_the_body(api, tmp_path):
    big = b"x" * 10_001  # the fixture's --max-upload is 10,000 bytes
    r = put(api, big)
    assert r.status_code == 413, r.json
    assert stored(tmp_path) == []


def test_uploading_needs_exec(api):
    r = put(api, KERNEL, who="bob")  # lease,query
    assert r.status_code == 403, r.json
    assert api.post("/blobs/missing", {"digests": []}, who="bob").status_code == 403
    assert put(api, KERNEL, who=None).status_code == 401


def test_a_digest_alone_gives_no_access_to_someone_elses_file(api):
    assert put(api, KERNEL, who="alice").status_code == 201
    assert put(api, MODULES, who="alice").status_code == 201
    # carol has not sent these bytes: the server does not tell her alice has, nor lets her
    # refer to them
    assert missing(api, [digest(KERNEL)], who="carol") == [digest(KERNEL)]
    r = api.post("/plans", {"plan": by_digest(GUIDE)}, who="carol")
    assert r.status_code == 400, r.json
    assert "not uploaded by you" in r.json["description"]
    # once she sends them herself, she may
    assert put(api, KERNEL, who="carol").status_code == 201
    assert put(api, MODULES, who="carol").status_code == 201
    assert missing(api, [digest(KERNEL)], who="carol") == []
    assert api.post("/plans", {"plan": by_digest(GUIDE)}, who="carol").status_code == 201
    # and there is no way to read a blob back
    r = api.client.simulate_get(f"/blobs/{digest(KERNEL)}", headers=api._h("admin"))
    assert r.status_code == 405


def test_a_multipart_upload_counts_as_sent(api, tmp_path):
    """An old client's files are not sent again by a new one."""
    (tmp_path / "Image").write_bytes(KERNEL)
    (tmp_path / "modules.tar.xz").write_bytes(MODULES)
    r = submit(api, GUIDE, {"swprofiles[0].kernel": tmp_path / "Image",
                            "swprofiles[0].modules": tmp_path / "modules.tar.xz"}, who="alice")
    assert r.status_code == 201, r.json
    assert missing(api, [digest(KERNEL), digest(MODULES)]) == []


def test_dry_run_checks_everything_and_records_nothing(api, tmp_path):
    r = api.post("/plans", {"plan": GUIDE, "dry_run": True}, who="alice")  # local paths: fine
    assert r.status_code == 200, r.json
    assert r.json == {"status": "success", "dry_run": True, "sutclass": "demo", "jobs": 3,
                      "files": 2}
    assert Plan.select().count() == 0
    r = api.post("/plans", {"plan": {**GUIDE, "sut": {"sutclass": "dmeo"}}, "dry_run": True},
                 who="alice")
    assert r.status_code == 404 and "dmeo" in r.json["description"], r.json
    r = api.post("/plans", {"plan": GUIDE, "dry_run": True}, who="bob")
    assert r.status_code == 403, r.json
    r = api.post("/plans", {"plan": {**GUIDE, "benchmarks": []}, "dry_run": True}, who="alice")
    assert r.status_code == 400, r.json
    r = api.post("/plans", {"plan": GUIDE, "dry_run": "yes"}, who="alice")
    assert r.status_code == 400 and "dry_run" in r.json["description"], r.json
    # without the dry run, a local path is refused: the files were not uploaded
    r = api.post("/plans", {"plan": GUIDE}, who="alice")
    assert r.status_code == 400 and "not uploaded" in r.json["description"], r.json


@pytest.mark.parametrize("referenced", [False, True])
def test_the_sweeper_removes_an_unreferenced_blob_after_the_grace_period(api, tmp_path, clock,
                                                                         referenced):
    for data in (KERNEL, MODULES):
        assert put(api, data).status_code == 201
    if referenced:
        assert api.post("/plans", {"plan": by_digest(GUIDE)}, who="alice").status_code == 201
    storage = Storage(tmp_path / "storage")
    sweeper = Sweeper(storage, grace=3600, interval=60, clock=time.time)
    sweeper.run(0)  # young: kept
    assert len(stored(tmp_path)) == 2
    hours_ago = time.time() - 2 * 3600
    for name in stored(tmp_path):
        os.utime(storage.path("sha256:" + name), (hours_ago, hours_ago))
    sweeper.run(0)
    if referenced:
        assert len(stored(tmp_path)) == 2 and BlobOwner.select().count() == 2
        return
    assert stored(tmp_path) == [] and BlobOwner.select().count() == 0
    # whoever wants it again is told to send it again
    assert missing(api, [digest(KERNEL)]) == [digest(KERNEL)]


def test_asking_restarts_the_grace_period(api, tmp_path):
    """Between `missing` saying "have it" and the plan, a sweep does not take the blob."""
    assert put(api, KERNEL).status_code == 201
    storage = Storage(tmp_path / "storage")
    hours_ago = time.time() - 2 * 3600
    os.utime(storage.path(digest(KERNEL)), (hours_ago, hours_ago))
    assert missing(api, [digest(KERNEL)]) == []
    Sweeper(storage, grace=3600, interval=60, clock=time.time).run(0)
    assert stored(tmp_path) == [digest(KERNEL)[7:]]


def test_many_digests_in_one_question(api):
    datas = [b"file %d" % i for i in range(450)]  # more than one statement's batch
    for d in datas[:300]:
        assert put(api, d).status_code == 201
    assert missing(api, [digest(d) for d in datas]) == [digest(d) for d in datas[300:]]
    r = api.post("/blobs/missing", {"digests": [digest(b"")] * 1001}, who="alice")
    assert r.status_code == 400, r.json
