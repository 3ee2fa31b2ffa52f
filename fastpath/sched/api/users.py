"""`/users`: accounts and their tokens (admin only)."""

from __future__ import annotations

import falcon

from fastpath.sched import queries
from fastpath.sched.api.middleware import needs
from fastpath.sched.api.request import body
from fastpath.sched.api.views import user_view


class Users:
    def __init__(self, clock) -> None:
        self.clock = clock

    @needs("admin")
    def on_post(self, req, resp) -> None:
        doc = body(req, {"name", "capabilities"}, ("name", "capabilities"))
        user, token = queries.create_user(
            doc["name"], doc["capabilities"], self.clock(), actor=req.context.user.name
        )
        resp.status = falcon.HTTP_201
        resp.media = {"status": "success", "user_id": user.id, "token": token}

    @needs("admin")
    def on_get(self, req, resp) -> None:
        resp.media = {"status": "success", "users": [user_view(u) for u in queries.list_users()]}
