"""`/blobs`: uploads by content, ahead of the plan that refers to them (issue 15).

The client hashes its files, asks which digests it still has to send
(`POST /blobs/missing`), sends only those as raw bodies (`PUT /blobs/sha256:<hex>`)
and then submits its plan as JSON, naming each file by digest. A body is
hashed while it streams into a temporary file and becomes a blob only if its
digest is the one in the URL. Blobs cannot be read back through the API.

A blob is stored once, whoever sent it, but a user is told the server has it
(and may refer to it in a plan) only after sending those bytes once: knowing
a digest, say from someone else's plan, gives no access to the file, and
`missing` tells no one what others have uploaded. A blob that no plan refers
to is swept after the storage grace period (fastpath.control.sweeper).
"""

from __future__ import annotations

import falcon

from fastpath.api.middleware import needs
from fastpath.api.request import WholeBody, body
from fastpath.errors import Invalid, TooLarge
from fastpath.store.files import DIGEST, Storage
from fastpath.store.queries import blobs

MAX_DIGESTS = 1000  # per `missing` request: far more files than a plan may name


class Blobs:
    def __init__(self, clock, storage: Storage, max_upload: int) -> None:
        self.clock, self.storage, self.max_upload = clock, storage, max_upload

    @needs("exec")
    def on_post_missing(self, req, resp) -> None:
        doc = body(req, {"digests"}, ("digests",))
        digests = doc["digests"]
        if not isinstance(digests, list) or len(digests) > MAX_DIGESTS:
            raise Invalid(f"digests: expected a list of at most {MAX_DIGESTS} digests")
        for i, d in enumerate(digests):
            if not isinstance(d, str) or not DIGEST.match(d):
                raise Invalid(f"digests[{i}]: expected sha256:<64 hex digits>, got {str(d)[:80]!r}")
        held = held_by(self.storage, req.context.user, digests)
        resp.media = {"status": "success",
                      "missing": [d for d in dict.fromkeys(digests) if d not in held]}

    @needs("exec")
    def on_put_item(self, req, resp, digest: str) -> None:
        if not DIGEST.match(digest):
            raise Invalid(f"digest: expected sha256:<64 hex digits>, got {digest[:80]!r}")
        length = req.content_length
        if length is not None and length > self.max_upload:
            raise TooLarge(f"upload of {length} bytes is larger than the limit of "
                           f"{self.max_upload} bytes")
        # straight from the server's input, 1 MiB at a time (Storage.receive): no falcon
        # wrapper in between, and a body cut short is a 400, not a shorter blob
        stream = req.env["wsgi.input"]
        read = WholeBody(stream, length).read if length else stream.read
        pending = self.storage.receive(read, self.max_upload, expect=digest)
        try:
            blob = self.storage.commit(pending)
        finally:
            self.storage.discard([pending])  # gone from tmp once committed
        blobs.own(req.context.user, [blob.digest], self.clock())
        resp.status = falcon.HTTP_201
        resp.media = {"status": "success", "blob": {"digest": blob.digest, "size": blob.size}}


def held_by(storage: Storage, user, digests) -> set[str]:
    """The digests `user` has sent that are still stored; each one's grace period restarts,
    so a sweep does not take it between this answer and the plan that refers to it."""
    return {d for d in blobs.owned(user, digests) if storage.touch(d)}
