"""Storage.receive: a body becomes a blob only whole and with the digest it was sent under."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from fastpath.errors import Invalid, TooLarge
from fastpath.store.files import CHUNK, Storage


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "upload-writer"]


def test_a_big_body_is_stored_whole_under_its_digest(tmp_path):
    st = Storage(tmp_path)
    data = bytes(range(256)) * (CHUNK // 256) * 20 + b"tail"  # more chunks than the queue holds
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    pending = st.receive(io.BytesIO(data).read, len(data), expect=digest)
    blob = st.commit(pending)
    assert blob.digest == digest and blob.size == len(data)
    assert st.path(digest).read_bytes() == data
    assert list(st.tmp.iterdir()) == [] and _threads() == []


@pytest.mark.parametrize("case", ["wrong digest", "too large", "reader fails"])
def test_a_refused_body_leaves_nothing(tmp_path, case):
    st = Storage(tmp_path)
    data = b"x" * (3 * CHUNK)
    stream = io.BytesIO(data)

    def failing(n: int) -> bytes:
        if stream.tell() >= 2 * CHUNK:
            raise Invalid("Content-Length: 3 bytes announced, 2 sent")
        return stream.read(n)

    read, limit, expect, error = {
        "wrong digest": (stream.read, len(data), "sha256:" + "0" * 64, Invalid),
        "too large": (stream.read, len(data) - 1, None, TooLarge),
        "reader fails": (failing, len(data), None, Invalid),
    }[case]
    with pytest.raises(error):
        st.receive(read, limit, expect=expect)
    assert list(st.tmp.iterdir()) == [] and list(st.blobs.iterdir()) == []
    assert _threads() == []


def test_a_write_error_reaches_the_request(tmp_path, monkeypatch):
    """A full disk in the writer thread is raised in the request thread, not lost."""
    import os

    st = Storage(tmp_path)
    real = os.write

    def full(fd, data):
        if os.fstat(fd).st_size >= CHUNK:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        st.receive(io.BytesIO(b"y" * (4 * CHUNK)).read, 10 * CHUNK)
    assert list(st.tmp.iterdir()) == [] and _threads() == []
