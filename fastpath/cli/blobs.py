"""A plan's local files sent as content-addressed blobs: hash, ask, send only what is missing.

`plan-exec` hashes each file, asks the scheduler in one request which digests
it still needs from this user, and streams only those as raw bodies
(`PUT /blobs/sha256:<hex>`), each verified by the server on arrival. A kernel
submitted again is not sent again. Progress (with rate and ETA) is shown on a
terminal only.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

CHUNK = 1024 * 1024


def digest_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def send_missing(client, files: dict[str, Path]) -> tuple[dict[str, str], int]:
    """Make sure the scheduler holds every file; ({field: digest}, bytes sent)."""
    by_path: dict[Path, str] = {}
    for path in files.values():
        if path not in by_path:
            by_path[path] = digest_of(path)
    digests = {field: by_path[path] for field, path in files.items()}
    if not digests:
        return digests, 0
    unique = list(dict.fromkeys(digests.values()))
    missing = client.retrying(lambda: client.post("/blobs/missing", {"digests": unique}),
                              patience=60, on_wait=_retrying)["missing"]
    path_of = {d: p for p, d in by_path.items()}
    todo = [(d, path_of[d]) for d in missing]
    total = sum(p.stat().st_size for _, p in todo)
    with _progress(total, len(todo), len(unique) - len(todo)) as advance:
        for digest, path in todo:
            size = path.stat().st_size
            client.retrying(  # a PUT of the same content is safe to repeat
                lambda digest=digest, path=path, size=size: client.stream(
                    "PUT", f"/blobs/{digest}", _chunks(path, advance), size,
                    "application/octet-stream"),
                patience=60, on_wait=_retrying)
    return digests, total


def _chunks(path: Path, advance: Callable[[int], None]) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk
            advance(len(chunk))


def _retrying(exc, attempt: int) -> None:
    from fastpath.cli.client import worth_saying

    if worth_saying(attempt):
        click.echo(f"{exc.message}; retry {attempt} of the upload", err=True)


class _progress:
    """A progress bar on stderr with rate and ETA, if it is a terminal; nothing otherwise."""

    def __init__(self, total: int, count: int, present: int) -> None:
        self.total, self.count, self.present = total, count, present
        self.bar: Any = None
        self.start = time.monotonic()
        self.done = 0

    def _rate(self, _item) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        return f"{self.done / elapsed / CHUNK:.1f} MiB/s"

    def __enter__(self) -> Callable[[int], None]:
        if self.total and sys.stderr.isatty():
            label = f"Uploading {self.count} file{'s' * (self.count != 1)} ({self.total / CHUNK:.1f} MiB)"
            if self.present:
                label += f", {self.present} already on the scheduler"
            self.bar = click.progressbar(length=self.total, label=label, file=sys.stderr,
                                         show_eta=True, show_percent=True,
                                         item_show_func=self._rate)
            self.bar.__enter__()
        return self.advance

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
