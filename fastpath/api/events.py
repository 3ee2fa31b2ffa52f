"""`/events`: the event log, the lab's audit trail (query)."""

from __future__ import annotations

from fastpath.api.listing import checked, words_of
from fastpath.api.middleware import needs
from fastpath.api.request import integer, timestamp
from fastpath.api.views import iso
from fastpath.store.queries import events, inventory, users

MAX_LIMIT = 1000


def event_view(e, names: dict) -> dict:
    return {"id": e.id, "at": iso(e.at), "actor": e.actor, "kind": e.kind, "ref": e.ref,
            "name": names.get((e.kind, e.ref)), "from": e.old, "to": e.new, "detail": e.detail}


class Events:
    @needs("query")
    def on_get(self, req, resp) -> None:
        kinds = checked(req, "kind", words_of(events.KINDS), "kinds: " + ", ".join(events.KINDS))
        sutclass = req.get_param("sutclass")
        user = req.get_param("user")
        after = req.get_param("after")
        found = events.list_events(
            since=timestamp(req.get_param("since"), "since"),
            after=integer(after, "after", 0, 2**63 - 1) if after is not None else None,
            kinds=kinds,
            sutclass=inventory.get_class(sutclass) if sutclass is not None else None,
            user=users.find_user(user) if user is not None else None,
            limit=integer(req.get_param("limit") or 100, "limit", 1, MAX_LIMIT))
        names = events.names(found)
        resp.media = {"status": "success", "events": [event_view(e, names) for e in found]}
