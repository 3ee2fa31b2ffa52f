"""The webhook outbox on every backend: fan-out once per event and endpoint, retries, delivery."""

from __future__ import annotations

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.control.webhooks import Webhooks
from fastpath.store.models import Delivery, Sut
from fastpath.store.queries import leases, users, webhooks
from tests.integration.api_helpers import declare, make_healthy


class Endpoint:
    """Stands in for the HTTP POST (the real receiver is in tests/e2e/test_webhooks.py)."""

    def __init__(self, refuse: int) -> None:
        self.refuse, self.seen = refuse, []

    def __call__(self, url, body, headers, timeout) -> None:
        self.seen.append((url, headers["X-Fastpath-Delivery"], headers["X-Fastpath-Event"]))
        if self.refuse:
            self.refuse -= 1
            raise OSError("connection refused")


def test_fan_out_retries_and_delivers_once(database, clock, tmp_path):
    declare(tmp_path, {"demo": 1}, clock())
    make_healthy(clock())
    bob, _ = users.create_user("bob", "lease,query", clock(), actor="admin")
    ctl = Controller(clock=clock, tuning=Tuning(webhook_backoff_base=10, webhook_backoff_cap=60, ttl=600))
    assert ctl.lead()
    post = Endpoint(refuse=1)
    hooks = Webhooks(ctl, ["http://a/hook", "http://b/hook"], b"secret", post=post)
    assert hooks.due(clock()) == []  # the first look starts the cursor at the end of the log
    lease, _ = leases.request_lease(bob, "demo", 5, clock())
    assert leases.grant_lease(lease.id, Sut.get().id, clock())
    due = hooks.due(clock())
    assert len(due) == 2 and Delivery.select().count() == 2
    hooks.due(clock())  # looking again adds nothing: one row per event and endpoint
    assert Delivery.select().count() == 2
    for id in due:
        hooks.run(id)
    rows = {d.endpoint: d for d in Delivery.select()}
    assert rows["http://a/hook"].state == "pending" and rows["http://a/hook"].attempts == 1
    assert rows["http://a/hook"].last_error == "connection refused"
    assert rows["http://b/hook"].state == "delivered"
    assert hooks.due(clock()) == []  # backing off
    clock.advance(11)
    [again] = hooks.due(clock())
    hooks.run(again)
    assert {d.state for d in Delivery.select()} == {"delivered"}
    assert [s[1] for s in post.seen].count(str(again)) == 2  # the same id on the retry
    assert webhooks.payload(rows["http://b/hook"].event)["lease"]["user"] == "bob"
    ctl.shutdown()
