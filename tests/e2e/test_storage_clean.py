"""`--storage` cleans itself, against the real `fastpath sched run` and real sockets.

An upload is a temporary file until its whole request is accepted; a rejected
or cut-off request leaves nothing; a crash's temporary files and blobs that no
plan refers to are swept at start (and every `storage_sweep` seconds) once
older than `storage_grace` (an hour by default).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time

from tests.e2e.test_hostile_input import multipart, send

KERNEL_PLAN = {"sut": {"sutclass": "demo"}, "swprofiles": [{"name": "baseline", "kernel": "Image"}],
               "benchmarks": [{"include": "testing/busyloop.yaml"}]}


def files(s) -> dict[str, list[str]]:
    root = s.workdir / "sched_storage"
    return {"tmp": sorted(p.name for p in (root / "tmp").glob("*")),
            "blobs": sorted(p.name for p in (root / "blobs").glob("*/*"))}


def upload(s, token, parts: dict[str, bytes]) -> tuple[int, dict]:
    body, ctype = multipart(parts)
    return send(s, token, "POST", "/plans", body, {"Content-Type": ctype})


def test_a_rejected_plan_leaves_no_file(scheduler):
    s = scheduler(boot="power_cycle")
    s.start()
    token = s.admin_token()
    bad = {**KERNEL_PLAN, "benchmarks": [{"include": "no/such.yaml"}]}
    status, out = upload(s, token, {"plan": json.dumps(bad).encode(),
                                    "swprofiles[0].kernel": b"secret" * 1000})
    assert status == 400, out
    assert files(s) == {"tmp": [], "blobs": []}
    # 70 parts (more than a form may have), and 60 parts with the last one wrong: the files
    # received before the refusal go too
    for count, extra in ((69, {}), (59, {"swprofiles[0].initrd": b"not in the plan"})):
        parts = {"plan": json.dumps({**KERNEL_PLAN, "swprofiles": [
            {"name": f"sw{i}", "kernel": "Image"} for i in range(count)]}).encode()}
        parts.update({f"swprofiles[{i}].kernel": b"k%d" % i for i in range(count)})
        parts.update(extra)
        status, out = upload(s, token, parts)
        assert status == 400, out
        assert not extra or "swprofiles[0].initrd" in out["description"], out
        assert files(s) == {"tmp": [], "blobs": []}
    # the accepted one is a blob, and only it
    status, out = upload(s, token, {"plan": json.dumps(KERNEL_PLAN).encode(),
                                    "swprofiles[0].kernel": b"kernel" * 100})
    assert status == 201, out
    assert files(s)["tmp"] == [] and len(files(s)["blobs"]) == 1


def _start_upload(s, token, size: int = 10_000_000) -> socket.socket:
    """A multipart POST /plans that announces `size` bytes and sends 1 MB of a file part."""
    head = (b'--b\r\nContent-Disposition: form-data; name="plan"\r\n\r\n'
            + json.dumps(KERNEL_PLAN).encode()
            + b'\r\n--b\r\nContent-Disposition: form-data; name="swprofiles[0].kernel"\r\n\r\n')
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(b"POST /plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
                 + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                 + b"Content-Length: %d\r\n\r\n" % size + head + b"x" * 1_000_000)
    return sock


def test_a_client_cut_off_mid_upload_leaves_no_file(scheduler, wait_until):
    s = scheduler(boot="power_cycle")
    s.start()
    token = s.admin_token()
    sock = _start_upload(s, token)
    wait_until(lambda: files(s)["tmp"], what="the upload to be received")
    sock.close()
    wait_until(lambda: files(s) == {"tmp": [], "blobs": []}, what="the partial upload to go")
    assert send(s, token, "GET", "/healthz")[0] == 200


def test_a_crash_mid_upload_is_swept_at_the_next_start(scheduler, wait_until):
    s = scheduler(boot="power_cycle")
    s.start()
    token = s.admin_token()
    sock = _start_upload(s, token)
    wait_until(lambda: files(s)["tmp"], what="the upload to be received")
    s.stop(signal.SIGKILL)
    sock.close()
    left = files(s)["tmp"]
    assert len(left) == 1 and left[0].startswith("upload-"), left
    s.start()
    wait_until(lambda: files(s)["tmp"] == [], what="the dead upload to be swept")


def test_unreferenced_blobs_go_after_the_grace_period(scheduler, wait_until):
    s = scheduler(boot="power_cycle")
    s.start()
    token = s.admin_token()
    status, out = upload(s, token, {"plan": json.dumps(KERNEL_PLAN).encode(),
                                    "swprofiles[0].kernel": b"kept kernel"})
    assert status == 201, out
    [kept] = files(s)["blobs"]
    s.stop()
    blobs = s.workdir / "sched_storage" / "blobs"
    old, young = "ab" * 32, "cd" * 32  # blobs of no plan: a crash between blob and plan
    for name in (old, young):
        (blobs / name[:2]).mkdir(exist_ok=True)
        (blobs / name[:2] / name).write_bytes(b"orphan")
    hours_ago = time.time() - 2 * 3600
    os.utime(blobs / old[:2] / old, (hours_ago, hours_ago))
    os.utime(blobs / kept[:2] / kept, (hours_ago, hours_ago))  # old, but its plan refers to it
    s.start()
    wait_until(lambda: old not in files(s)["blobs"], what="the old orphan to be swept")
    assert sorted(files(s)["blobs"]) == sorted([kept, young])


def test_a_blob_sent_ahead_of_a_plan_that_never_came_is_swept(scheduler, wait_until):
    """`PUT /blobs/...`: a body that is not its digest leaves nothing; a good one that no plan
    refers to goes after the grace period, and its sender is told to send it again."""
    import hashlib

    s = scheduler(boot="power_cycle")
    s.start()
    token = s.admin_token()
    data = b"a kernel sent ahead" * 1000
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, out = send(s, token, "PUT", f"/blobs/sha256:{'0' * 64}", data,
                       {"Content-Type": "application/octet-stream"})
    assert status == 400, out
    assert files(s) == {"tmp": [], "blobs": []}
    status, out = send(s, token, "PUT", f"/blobs/{digest}", data,
                       {"Content-Type": "application/octet-stream"})
    assert status == 201, out
    assert files(s) == {"tmp": [], "blobs": [digest[7:]]}
    ask = json.dumps({"digests": [digest]}).encode()
    assert send(s, token, "POST", "/blobs/missing", ask,
                {"Content-Type": "application/json"})[1]["missing"] == []
    s.stop()
    path = s.workdir / "sched_storage" / "blobs" / digest[7:9] / digest[7:]
    hours_ago = time.time() - 2 * 3600
    os.utime(path, (hours_ago, hours_ago))
    s.start()
    wait_until(lambda: files(s)["blobs"] == [], what="the unreferenced blob to be swept")
    assert send(s, token, "POST", "/blobs/missing", ask,
                {"Content-Type": "application/json"})[1]["missing"] == [digest]
