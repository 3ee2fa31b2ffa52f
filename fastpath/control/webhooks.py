"""The webhook sender: the active controller delivers the outbox, at least once, with backoff.

Each pass fans new notifying events out into the outbox (one row per event and
endpoint, in the database), then sends what is due. A delivery is signed
(HMAC-SHA256 of the body) and carries its id, the same on every retry, so a
receiver acts on each once. At most `inflight` deliveries are on the way at a
time, each with a short timeout: a dead receiver holds two of the pool's
threads for seconds at worst, never the scheduling pass. Failures wait with a
capped exponential backoff recorded on the row, so a restart loses nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path

from fastpath.core import backoff
from fastpath.core.notify import EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, sign
from fastpath.errors import Invalid
from fastpath.store.queries import webhooks

log = logging.getLogger(__name__)

SECRET_ENV = "FASTPATH_WEBHOOK_SECRET"


def load_secret(path: Path | None, environ: dict) -> bytes:
    """The signing secret: from the file if one is named, else from $FASTPATH_WEBHOOK_SECRET."""
    if path is not None:
        try:
            text = Path(path).read_text().strip()
        except OSError as exc:
            raise Invalid(f"--webhook-secret-file {path}: {exc.strerror}") from exc
    else:
        text = environ.get(SECRET_ENV, "").strip()
    if not text:
        raise Invalid(f"webhooks need a signing secret: --webhook-secret-file FILE or ${SECRET_ENV}")
    return text.encode()


def http_post(url: str, body: bytes, headers: dict, timeout: float) -> None:
    """POST; an exception unless the receiver answers 2xx."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (configured URLs only)
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")


class Webhooks:
    """A controller worker: `due()` fans out and names deliveries, `run(id)` sends one."""

    kind = "webhook"

    def __init__(self, ctl, endpoints: list[str], secret: bytes, *, timeout: float = 5.0,
                 inflight: int = 2, post: Callable[[str, bytes, dict, float], None] = http_post
                 ) -> None:
        self.ctl, self.endpoints, self.secret = ctl, list(endpoints), secret
        self.timeout, self.max_inflight, self.post = timeout, inflight, post
        self._lock = threading.Lock()
        self._inflight = 0

    def due(self, now: float) -> list[int]:
        if webhooks.has_new_events():
            with self.ctl.fence() as at:
                webhooks.fan_out(self.endpoints, at)
        with self._lock:
            free = self.max_inflight - self._inflight
        return webhooks.due(now, free) if free > 0 else []

    def run(self, id: int) -> None:
        with self._lock:
            self._inflight += 1
        try:
            self._send(id)
        finally:
            with self._lock:
                self._inflight -= 1

    def _send(self, id: int) -> None:
        d = webhooks.get_delivery(id)
        if d is None or d.state != webhooks.PENDING:
            return
        body = json.dumps(webhooks.payload(d.event), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body),
                   ID_HEADER: str(d.id), EVENT_HEADER: str(d.event),
                   "User-Agent": "fastpath-scheduler"}
        try:
            self.post(d.endpoint, body, headers, self.timeout)
        except Exception as exc:  # a dead receiver, or anything unexpected: retried with backoff
            attempts = d.attempts + 1
            t = self.ctl.tuning
            delay = backoff.delay(attempts, t.webhook_backoff_base, t.webhook_backoff_cap)
            log.info("webhook %s to %s failed (attempt %s): %s; again in %.1fs",
                     d.id, d.endpoint, attempts, exc, delay)
            with self.ctl.fence():
                webhooks.failed(d.id, attempts, str(exc), self.ctl.clock() + delay)
            return
        with self.ctl.fence():
            webhooks.delivered(d.id, self.ctl.clock())
