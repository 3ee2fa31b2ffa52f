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
import queue
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fastpath.errors import Invalid, TooLarge

CHUNK = 1024 * 1024
DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Blob:
    digest: str  # "sha256:<hex>"
    size: int


@dataclass(frozen=True)
class Pending:
    """An upload received in full into `tmp`, not yet a blob."""

    blob: Blob
    tmp: Path


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.tmp = self.root / "tmp"
        self.results = self.root / "results"
        for d in (self.blobs, self.tmp, self.results):
            d.mkdir(parents=True, exist_ok=True)

    def receive(self, read: Callable[[int], bytes], limit: int,
                expect: str | None = None) -> Pending:
        """Stream what `read` yields into a temporary file; TooLarge once past `limit` bytes.

        Nothing is a blob yet: the caller commits it once the whole request is
        good, or discards it. `expect`, a digest the sender announced, must match.
        """
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f"upload-{os.getpid()}-")
        tmp = Path(name)
        writer = _Writer(fd)
        try:
            size = 0
            while chunk := read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"upload larger than the limit of {limit} bytes")
                writer.put(chunk)
            blob = Blob("sha256:" + writer.finish(), size)
            if expect is not None and expect != blob.digest:
                raise Invalid(f"upload: its content has digest {blob.digest}, not {expect[:80]}")
            return Pending(blob, tmp)
        except BaseException:
            writer.abort()
            tmp.unlink(missing_ok=True)
            raise

    def commit(self, pending: Pending) -> Blob:
        """Make a received upload a blob, under its digest."""
        if pending.tmp.stat().st_size != pending.blob.size:  # cut short or tampered with
            pending.tmp.unlink(missing_ok=True)
            raise Invalid("upload: the stored file is not the one received")
        target = self.path(pending.blob.digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        # same content, same name: replacing is harmless, and the fresh mtime restarts the
        # grace period of an unreferenced blob that is about to be referenced again
        os.replace(pending.tmp, target)
        return pending.blob

    def discard(self, pending: Iterable[Pending]) -> None:
        for p in pending:
            p.tmp.unlink(missing_ok=True)

    def save(self, read: Callable[[int], bytes], limit: int) -> Blob:
        """Receive and commit at once: for a caller whose upload is the whole request."""
        return self.commit(self.receive(read, limit))

    def path(self, digest: str) -> Path:
        m = DIGEST.match(digest or "")
        if not m:
            raise Invalid(f"not a stored file reference: {digest!r}")
        hexd = m.group(1)
        return self.blobs / hexd[:2] / hexd

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def touch(self, digest: str) -> bool:
        """Restart a stored blob's grace period (it is about to be referenced); False if absent.

        The sweeper looks at a blob's mtime again just before removing it, so a
        blob touched here outlives a sweep that listed it as old.
        """
        try:
            os.utime(self.path(digest))
        except FileNotFoundError:
            return False
        return True

    def job_dir(self, plan_id: int, job_id: int) -> Path:
        return self.results / f"plan-{int(plan_id)}" / f"job-{int(job_id)}"

    def sweep(self, referenced: Callable[[], set[str]], now: float, grace: float,
              alive: Callable[[int], bool] | None = None,
              gone: Callable[[list[str]], object] | None = None) -> dict[str, int]:
        """Remove what no one will use: temporary files of dead writers or untouched for
        `grace` seconds, and blobs older than `grace` that no plan refers to.

        `referenced` is called after the candidates are listed, and each is looked
        at again before it goes: a blob committed or touched meanwhile has a fresh
        mtime. `gone` is told the digests of the blobs removed.
        """
        alive = alive or _pid_alive
        removed = {"tmp": 0, "blobs": 0}
        for tmp in self.tmp.glob("upload-*"):
            pid = _writer(tmp.name)
            if (pid is not None and not alive(pid)) or _older(tmp, now - grace):
                tmp.unlink(missing_ok=True)
                removed["tmp"] += 1
        old = [b for b in self.blobs.glob("??/*") if _older(b, now - grace)]
        if not old:
            return removed
        keep = {m.group(1) for d in referenced() if (m := DIGEST.match(d or ""))}
        swept = []
        for blob in old:
            if blob.name not in keep and _older(blob, now - grace):
                blob.unlink(missing_ok=True)
                swept.append("sha256:" + blob.name)
        removed["blobs"] = len(swept)
        if swept and gone is not None:
            gone(swept)
        return removed


class _Writer:
    """Hashes and writes an upload's chunks in a thread of its own, while the request thread
    reads the next ones from the socket: receiving, hashing and writing overlap (each lets go
    of the GIL), instead of adding up. At most QUEUE chunks wait, so memory stays flat
    whatever the size. Writeback is started as it goes (posix_fadvise DONTNEED, which does
    not wait), so the one fsync at the end finds little left; fdatasync every 32 MiB instead
    made a 200 MB upload 3-5x slower on this machine's disk (a journal commit each)."""

    QUEUE = 8
    WRITEBACK = 16 * CHUNK

    def __init__(self, fd: int) -> None:
        self.fd, self.hash = fd, hashlib.sha256()
        self.chunks: queue.Queue[bytes | None] = queue.Queue(self.QUEUE)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="upload-writer", daemon=True)
        self.thread.start()

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(chunk)

    def _run(self) -> None:
        written = flushed = 0
        while (chunk := self.chunks.get()) is not None:
            if self.error is not None:
                continue  # drain, so that the request thread never blocks on a full queue
            try:
                self.hash.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(self.fd, view):]
                written += len(chunk)
                if self.WRITEBACK and written - flushed >= self.WRITEBACK:
                    # start writing back what is written so far, without waiting for it
                    # (and drop it from the page cache): the final fsync finds little left
                    os.posix_fadvise(self.fd, flushed, written - flushed, os.POSIX_FADV_DONTNEED)
                    flushed = written
            except BaseException as exc:  # noqa: BLE001  # handed to the request thread
                self.error = exc

    def finish(self) -> str:
        """Wait for the last chunk to be on disk; the hex digest."""
        self.chunks.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        return self.hash.hexdigest()

    def abort(self) -> None:
        if self.thread.is_alive():
            self.error = self.error or Invalid("upload abandoned")
            self.chunks.put(None)
            self.thread.join()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _writer(name: str) -> int | None:
    """The pid in `upload-<pid>-<random>`; None for a name of an older release."""
    parts = name.split("-")
    return int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() and parts[1].isascii() else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:  # a killed writer whose parent died too may stay a zombie: that is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
