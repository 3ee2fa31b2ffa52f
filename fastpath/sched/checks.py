"""Configuration checked before the server binds: one clear line for each mistake.

What the server would otherwise find out in a child process (a gunicorn
worker that fails to boot, a controller that cannot write a job's directory,
a resultstore that cannot publish) is tried here, as the user the server runs
as, so that `fastpath sched run` refuses to start instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastpath.errors import Invalid


def check_storage(root: Path) -> None:
    """--storage can be made and written: its blobs, tmp and results directories."""
    from fastpath.store.files import Storage

    try:
        storage = Storage(root)
        for d in (storage.blobs, storage.tmp, storage.results):
            fd, probe = tempfile.mkstemp(dir=d, prefix=".probe-")
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        what = "not writable" if isinstance(exc, PermissionError) else "cannot be made or written"
        raise Invalid(f"--storage {root}: {what}: {exc.strerror or exc}"
                      + (f" ({exc.filename})" if exc.filename else "")) from exc


def check_resultstore(url: str | None) -> None:
    """--resultstore names a backend we have (it is not opened: it may be down for now)."""
    if url is None:
        return
    from urllib.parse import urlsplit

    scheme = urlsplit(url).scheme.lower()
    if "://" in url and scheme not in ("csv", "sqlite", "mysql"):
        raise Invalid(f"--resultstore {url[:200]!r}: unknown scheme {scheme[:40]!r}; use "
                      "csv:///dir, sqlite:///file.db or mysql://user:password@host:port/db")
