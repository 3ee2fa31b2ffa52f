"""`/users`: accounts and their tokens (admin only)."""

from __future__ import annotations

import falcon

from fastpath.api.middleware import needs
from fastpath.api.request import body
from fastpath.api.views import user_view
from fastpath.store.queries import users


class Users:
    def __init__(self, clock) -> None:
        self.clock = clock

    @needs("admin")
    def on_post(self, req, resp) -> None:
        doc = body(req, {"name", "capabilities"}, ("name", "capabilities"))
        user, token = users.create_user(
            doc["name"], doc["capabilities"], self.clock(), actor=req.context.user.name
        )
        resp.status = falcon.HTTP_201
        resp.media = {"status": "success", "user_id": user.id, "token": token}

    @needs("admin")
    def on_get(self, req, resp) -> None:
        resp.media = {"status": "success", "users": [user_view(u) for u in users.list_users()]}
