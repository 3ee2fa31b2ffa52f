"""`/leases`: a person asks for a SUT of a class, waits for it, and releases it."""

from __future__ import annotations

import falcon

from fastpath.api.listing import owner_filter, state_filter
from fastpath.api.middleware import ensure_owner, needs
from fastpath.api.queue import QueueCache, Queues
from fastpath.api.request import body, idempotency_key, integer, number
from fastpath.api.views import lease_view
from fastpath.core import tokens
from fastpath.core.sshkeys import public_key
from fastpath.core.states import ACTIVE_LEASE, LeaseState, parse_states
from fastpath.store.queries import base, leases

MAX_WAIT = 60.0


class Leases:
    def __init__(self, clock, sleep, queues: QueueCache, poll: float = 0.02) -> None:
        self.clock, self.sleep, self.poll, self.queues = clock, sleep, poll, queues

    def _view(self, lease) -> dict:
        return lease_view(lease, Queues(self.queues, self.clock()))

    @needs("lease")
    def on_post(self, req, resp) -> None:
        doc = body(req, {"sutclass", "priority", "duration", "ssh_key"}, ("sutclass",))
        if not isinstance(doc["sutclass"], str):
            raise falcon.HTTPBadRequest(description="sutclass: expected a SUT class name")
        priority = integer(doc.get("priority", 5), "priority", 0, 10)
        key = public_key(doc["ssh_key"]) if doc.get("ssh_key") is not None else None
        lease, new = leases.request_lease(req.context.user, doc["sutclass"], priority,
                                           self.clock(), idempotency_key(req),
                                           duration=doc.get("duration"), ssh_key=key)
        resp.status = falcon.HTTP_201 if new else falcon.HTTP_200
        resp.media = {"status": "success", "lease": self._view(leases.get_lease(lease.id))}

    @needs("query", "lease")
    def on_get(self, req, resp) -> None:
        states = state_filter(req, LeaseState, ACTIVE_LEASE, parse_states)
        users = owner_filter(req)
        found = leases.list_leases(states, users)
        queues = Queues(self.queues, self.clock()).prepare(
            x.sutclass for x in found if x.state == LeaseState.QUEUED)
        resp.media = {"status": "success", "leases": [lease_view(x, queues) for x in found]}

    @needs("query", "lease")
    def on_get_item(self, req, resp, id: int) -> None:
        wait = number(req.get_param("wait") or 0, "wait", 0, MAX_WAIT)
        lease = leases.get_lease(id)
        defer = req.env.get("asgi.scope", {}).get("fastpath.defer")
        if defer is not None:  # the ASGI shell waits without a thread (fastpath.api.asgi)
            if wait and lease.state == LeaseState.QUEUED and not defer.get("waited"):
                defer["wait"] = wait
                resp.media = {"status": "success"}  # thrown away: the answer comes after the wait
                return
            wait = 0
        deadline = self.clock() + wait
        seen = base.changes()
        # Long-poll without the shell (a bare WSGI server, falcon's test client): watch the
        # cheap change counter, re-read the lease when it moves.
        while lease.state == LeaseState.QUEUED and self.clock() < deadline:
            self.sleep(self.poll)
            now_seen = base.changes()
            if now_seen != seen:
                seen = now_seen
                lease = leases.get_lease(id)
        resp.media = {"status": "success", "lease": self._view(lease)}

    @needs("lease")
    def on_post_release(self, req, resp, id: int) -> None:
        lease = leases.get_lease(id)
        ensure_owner(req, lease.user_id, f"lease {id}")
        lease = leases.release_lease(lease, req.context.user.name, self.clock())
        resp.media = {"status": "success", "lease": self._view(lease)}

    @needs("lease")
    def on_post_extend(self, req, resp, id: int) -> None:
        doc = body(req, {"duration"}, ("duration",))
        lease = leases.get_lease(id)
        ensure_owner(req, lease.user_id, f"lease {id}")
        admin = tokens.has(req.context.user.capabilities, "admin")
        lease = leases.extend_lease(lease, doc["duration"], req.context.user.name, self.clock(),
                                    admin=admin)
        resp.media = {"status": "success", "lease": self._view(lease)}
