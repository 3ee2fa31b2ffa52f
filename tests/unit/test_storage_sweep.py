"""Storage.sweep: which temporary files and blobs go, and which stay."""

from __future__ import annotations

import os

from fastpath.store.files import Storage

NOW = 1_780_000_000.0
GRACE = 3600.0


def _touch(path, mtime: float, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def test_what_goes_and_what_stays(tmp_path):
    st = Storage(tmp_path)
    alive = {100}
    tmps = {"upload-100-live": NOW, "upload-100-stalled": NOW - 2 * GRACE,
            "upload-200-dead": NOW, "upload-oldname": NOW, "upload-oldname2": NOW - 2 * GRACE}
    for name, mtime in tmps.items():
        _touch(st.tmp / name, mtime)
    kept, orphan, young = "aa" * 32, "bb" * 32, "cc" * 32
    _touch(st.blobs / kept[:2] / kept, NOW - 2 * GRACE)
    _touch(st.blobs / orphan[:2] / orphan, NOW - 2 * GRACE)
    _touch(st.blobs / young[:2] / young, NOW - 10)
    removed = st.sweep(lambda: {f"sha256:{kept}", "not a digest"}, NOW, GRACE,
                       alive=lambda pid: pid in alive)
    assert removed == {"tmp": 3, "blobs": 1}
    assert sorted(p.name for p in st.tmp.iterdir()) == ["upload-100-live", "upload-oldname"]
    assert sorted(p.name for p in st.blobs.glob("*/*")) == sorted([kept, young])


def test_the_plans_are_read_only_when_a_blob_is_old(tmp_path):
    st = Storage(tmp_path)
    young = "cc" * 32
    _touch(st.blobs / young[:2] / young, NOW)
    calls = []
    st.sweep(lambda: calls.append(1) or set(), NOW, GRACE)
    assert calls == [] and st.has(f"sha256:{young}")


def test_a_received_upload_is_no_blob_until_committed(tmp_path):
    st = Storage(tmp_path)
    chunks = iter([b"kernel", b""])
    pending = st.receive(lambda n: next(chunks), 100)
    assert not st.has(pending.blob.digest) and pending.tmp.exists()
    assert st.commit(pending) == pending.blob and st.has(pending.blob.digest)
    assert not pending.tmp.exists()
    chunks = iter([b"other", b""])
    pending = st.receive(lambda n: next(chunks), 100)
    st.discard([pending])
    assert not st.has(pending.blob.digest) and list(st.tmp.iterdir()) == []


def test_an_announced_digest_must_match(tmp_path):
    import pytest

    from fastpath.errors import Invalid

    st = Storage(tmp_path)
    chunks = iter([b"kernel", b""])
    with pytest.raises(Invalid, match="digest"):
        st.receive(lambda n: next(chunks), 100, expect="sha256:" + "0" * 64)
    assert list(st.tmp.iterdir()) == []
