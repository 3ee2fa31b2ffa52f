"""Files under `--storage`: uploads by content (sha256) and what jobs collected.

An upload is streamed to a temporary file while it is hashed, synced to disk,
then renamed into place under its digest: a crash leaves either the whole
file or only a temporary one, and the same content is stored once. The
server never opens a path it was given: only digests it computed itself and
directories of its own jobs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastpath.errors import Invalid, TooLarge

CHUNK = 1024 * 1024
DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Blob:
    digest: str  # "sha256:<hex>"
    size: int


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.tmp = self.root / "tmp"
        self.results = self.root / "results"
        for d in (self.blobs, self.tmp, self.results):
            d.mkdir(parents=True, exist_ok=True)

    def save(self, read: Callable[[int], bytes], limit: int) -> Blob:
        """Store what `read` yields; TooLarge once it passes `limit` bytes."""
        h, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                while chunk := read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"upload larger than the limit of {limit} bytes")
                    h.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            blob = Blob("sha256:" + h.hexdigest(), size)
            target = self.path(blob.digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)  # same content, same name: replacing is harmless
            return blob
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def path(self, digest: str) -> Path:
        m = DIGEST.match(digest or "")
        if not m:
            raise Invalid(f"not a stored file reference: {digest!r}")
        hexd = m.group(1)
        return self.blobs / hexd[:2] / hexd

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def job_dir(self, plan_id: int, job_id: int) -> Path:
        return self.results / f"plan-{int(plan_id)}" / f"job-{int(job_id)}"
