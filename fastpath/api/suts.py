"""`/suts`: the lab's machines, their health, holders and kernels; an admin drains them."""

from __future__ import annotations

from fastpath.api.middleware import needs
from fastpath.api.request import body
from fastpath.api.views import sut_detail_view
from fastpath.errors import Invalid
from fastpath.store.queries import inventory, suts, users

MAX_REASON = 500


class Suts:
    def __init__(self, clock) -> None:
        self.clock = clock

    def _views(self, found) -> list[dict]:
        held = inventory.holders()
        names = {u.id: u.name for u in users.list_users()}
        return [sut_detail_view(s, held.get(s.id), names) for s in found]

    @needs("query")
    def on_get(self, req, resp) -> None:
        sutclass = req.get_param("sutclass")
        if sutclass is not None:
            inventory.get_class(sutclass)  # 404 for a class that does not exist
        resp.media = {"status": "success", "suts": self._views(suts.list_suts(sutclass))}

    @needs("query")
    def on_get_item(self, req, resp, name: str) -> None:
        resp.media = {"status": "success", "sut": self._views([suts.find_sut(name)])[0]}

    @needs("admin")
    def on_patch_item(self, req, resp, name: str) -> None:
        doc = body(req, {"maintenance", "reason"}, ("maintenance",))
        if not isinstance(doc["maintenance"], bool):
            raise Invalid("maintenance: expected true or false")
        reason = doc.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise Invalid(f"reason: expected a text of at most {MAX_REASON} characters")
        sut = suts.set_drain(suts.find_sut(name), doc["maintenance"], reason,
                             req.context.user.name, self.clock())
        resp.media = {"status": "success", "sut": self._views([sut])[0]}
