"""`/users`: accounts and their tokens (admin only)."""

from __future__ import annotations

import falcon

from fastpath.api.middleware import Tokens, needs
from fastpath.api.request import body
from fastpath.api.views import user_view
from fastpath.errors import Invalid
from fastpath.store.queries import users


class Users:
    def __init__(self, clock, known: Tokens) -> None:
        self.clock, self.known = clock, known

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

    @needs("admin")
    def on_patch_item(self, req, resp, name: str) -> None:
        doc = body(req, {"capabilities", "disabled"}, ())
        if not doc:
            raise Invalid("expected capabilities or disabled (or both)")
        if "disabled" in doc and not isinstance(doc["disabled"], bool):
            raise Invalid("disabled: expected true or false")
        if "capabilities" in doc and not isinstance(doc["capabilities"], str):
            raise Invalid("capabilities: expected a comma-separated list")
        user = users.find_user(name)
        if user.id == req.context.user.id and doc.get("disabled"):
            raise Invalid("disabled: an admin cannot disable their own account")
        if user.id == req.context.user.id and "capabilities" in doc and \
                "admin" not in str(doc["capabilities"]).split(","):
            raise Invalid("capabilities: an admin cannot take admin from their own account")
        user = users.update_user(user, self.clock(), actor=req.context.user.name,
                                 capabilities=doc.get("capabilities"), disabled=doc.get("disabled"))
        self.known.forget()  # this process sees the change at once; the others within TOKEN_TTL
        resp.media = {"status": "success", "user": user_view(user)}

    @needs("admin")
    def on_post_token(self, req, resp, name: str) -> None:
        user = users.find_user(name)
        token = users.rotate_token(user, self.clock(), actor=req.context.user.name)
        self.known.forget()
        resp.media = {"status": "success", "user": user_view(user), "token": token}
