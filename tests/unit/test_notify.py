"""Which events notify, how they are signed, when a failed delivery is tried again."""

from __future__ import annotations

import pytest

from fastpath.core.backoff import delay
from fastpath.core.notify import event_type, sign, verify


@pytest.mark.parametrize("kind, old, new, expected", [
    ("plan", "running", "completed", "plan.completed"),
    ("plan", "running", "failed", "plan.failed"),
    ("plan", "queued", "cancelled", "plan.cancelled"),
    ("plan", "queued", "running", None),
    ("lease", "queued", "acquired", "lease.acquired"),
    ("lease", "acquired", "expired", "lease.expired"),
    ("lease", "acquired", "expiring", "lease.expiring"),
    ("lease", "acquired", "released", None),
    ("sut", "healthy", "unhealthy", "sut.unhealthy"),
    ("sut", "unknown", "unhealthy", "sut.unhealthy"),
    ("sut", "unhealthy", "healthy", "sut.recovered"),
    ("sut", "unknown", "healthy", None),
    ("job", "running", "completed", None),
])
def test_event_types(kind, old, new, expected):
    assert event_type(kind, old, new) == expected


def test_signature_is_hmac_sha256_of_the_body():
    sig = sign(b"secret", b'{"id": "1"}')
    # the value any receiver computes: hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert sig == "sha256=316db881f1150a25930051d4a7439b584017f1e01da42ba0e24d1390b28073b0"
    assert verify(b"secret", b'{"id": "1"}', sig)
    assert not verify(b"other", b'{"id": "1"}', sig)
    assert not verify(b"secret", b'{"id": "2"}', sig)


def test_the_backoff_doubles_up_to_the_cap():
    assert [delay(n, 2.0, 10.0) for n in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]
