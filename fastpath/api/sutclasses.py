"""`/sutclasses`: the classes, their SUTs and their usage, now or over a window."""

from __future__ import annotations

from fastpath.api.middleware import needs
from fastpath.api.request import timestamp
from fastpath.api.views import sutclass_view
from fastpath.errors import Invalid
from fastpath.store.queries import inventory


class SutClasses:
    def __init__(self, clock) -> None:
        self.clock = clock

    def _window(self, req) -> tuple[float | None, float | None]:
        start, end = timestamp(req.get_param("from"), "from"), timestamp(req.get_param("to"), "to")
        if start is not None and end is not None and end <= start:
            raise Invalid("to: must be later than from")
        return start, end

    @needs("query")
    def on_get(self, req, resp) -> None:
        start, end = self._window(req)
        classes = [sutclass_view(c, usage, window=(start, end))
                   for c, usage in inventory.classes_in_use(self.clock(), start, end)]
        resp.media = {"status": "success", "sutclasses": classes}

    @needs("query")
    def on_get_item(self, req, resp, name: str) -> None:
        start, end = self._window(req)
        [(cls, usage)] = inventory.classes_in_use(self.clock(), start, end, name=name)
        resp.media = {"status": "success",
                      "sutclass": sutclass_view(cls, usage, detail=True, window=(start, end))}
