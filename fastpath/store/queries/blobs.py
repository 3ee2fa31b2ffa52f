"""Who holds which blob: a user's proof of having sent a content, before referring to it."""

from __future__ import annotations

from collections.abc import Iterable

from fastpath.store.models import BlobOwner, User
from fastpath.store.queries.base import atomic

BATCH = 200  # digests per statement: well below every backend's parameter limit


def own(user: User, digests: Iterable[str], now: float) -> None:
    """Record that `user` holds these contents (they sent them), or refresh when."""
    digests = sorted(set(digests))
    if not digests:  # no write transaction for nothing (SQLite would take its write lock)
        return
    with atomic():
        for i in range(0, len(digests), BATCH):
            chunk = digests[i:i + BATCH]
            BlobOwner.update(at=now).where((BlobOwner.user == user)
                                           & BlobOwner.digest.in_(chunk)).execute()
            BlobOwner.insert_many([dict(user=user, digest=d, at=now) for d in chunk]) \
                .on_conflict_ignore().execute()


def owned(user: User, digests: Iterable[str]) -> set[str]:
    """The digests among `digests` that `user` has sent before."""
    digests = sorted(set(digests))
    found: set[str] = set()
    for i in range(0, len(digests), BATCH):
        found.update(row.digest for row in BlobOwner.select(BlobOwner.digest).where(
            (BlobOwner.user == user) & BlobOwner.digest.in_(digests[i:i + BATCH])))
    return found


def forget(digests: Iterable[str]) -> int:
    """Drop the owners of blobs that are gone (swept); how many rows."""
    digests = sorted(set(digests))
    removed = 0
    for i in range(0, len(digests), BATCH):
        removed += BlobOwner.delete().where(BlobOwner.digest.in_(digests[i:i + BATCH])).execute()
    return removed
