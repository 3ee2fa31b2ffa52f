"""`/healthz`: liveness, and whether the database answers."""

from __future__ import annotations

import falcon

from fastpath.store.queries import base


class Healthz:
    public = True

    def on_get(self, req, resp) -> None:
        base.changes()  # a real round trip to the database
        resp.media = {"status": "success", "database": "ok"}
        resp.status = falcon.HTTP_200
