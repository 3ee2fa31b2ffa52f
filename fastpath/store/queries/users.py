"""Users and their tokens."""

from __future__ import annotations

import re

import peewee as pw

from fastpath.core import tokens
from fastpath.errors import Conflict, Invalid, NotFound
from fastpath.store.models import User
from fastpath.store.queries.base import atomic, log

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
ADMIN = "admin"


def create_user(name: str, capabilities: str, now: float, *, actor: str) -> tuple[User, str]:
    """A new user and its token (the only time the token exists in clear)."""
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise Invalid("name: expected 1-64 letters, digits, '.', '_', '@' or '-'")
    caps = tokens.parse_capabilities(capabilities)
    token = tokens.new_token()
    try:
        with atomic():
            user = User.create(
                name=name, capabilities=caps, token_hash=tokens.hash_token(token), created_at=now
            )
            log(actor, "user", user.id, None, "created", now, caps)
    except pw.IntegrityError as exc:
        raise Conflict(f"a user named {name!r} already exists") from exc
    return user, token


def ensure_admin(now: float) -> str | None:
    """Create the default admin on first start; its token, or None if users exist."""
    if User.select().exists():
        return None
    try:
        return create_user(ADMIN, ",".join(tokens.CAPABILITIES), now, actor="scheduler")[1]
    except Conflict:
        return None  # another process of a split deployment made it first


def rotate_admin_token(now: float, *, actor: str) -> str:
    """A new token for the default admin (made if missing, with every capability); the old one stops
    working. For an operator with local access to the database who lost the admin token."""
    user = User.get_or_none(User.name == ADMIN)
    if user is None:
        return create_user(ADMIN, ",".join(tokens.CAPABILITIES), now, actor=actor)[1]
    token = tokens.new_token()
    with atomic():
        User.update(token_hash=tokens.hash_token(token)).where(User.id == user.id).execute()
        log(actor, "user", user.id, None, "token rotated", now, user.capabilities)
    return token


def authenticate(token: str) -> User | None:
    user = User.get_or_none(User.token_hash == tokens.hash_token(token))
    if user is None or not tokens.token_matches(token, user.token_hash) or user.disabled:
        return None
    return user


def find_user(name: str) -> User:
    user = User.get_or_none(User.name == name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def update_user(user: User, now: float, *, actor: str, capabilities: str | None = None,
                disabled: bool | None = None) -> User:
    """New capabilities, or disable / enable the account; each change is logged."""
    with atomic():
        if capabilities is not None:
            caps = tokens.parse_capabilities(capabilities)
            User.update(capabilities=caps).where(User.id == user.id).execute()
            log(actor, "user", user.id, None, None, now, f"capabilities {user.capabilities} -> {caps}")
        if disabled is not None and disabled != user.disabled:
            User.update(disabled=disabled).where(User.id == user.id).execute()
            log(actor, "user", user.id, "disabled" if user.disabled else "enabled",
                "disabled" if disabled else "enabled", now)
    return User.get_by_id(user.id)


def rotate_token(user: User, now: float, *, actor: str) -> str:
    """A new token for the user; the old one stops working at once."""
    token = tokens.new_token()
    with atomic():
        User.update(token_hash=tokens.hash_token(token)).where(User.id == user.id).execute()
        log(actor, "user", user.id, None, None, now, "token rotated")
    return token


def list_users() -> list[User]:
    return list(User.select().order_by(User.id))


def user_ids(names: list[str]) -> list[int]:
    return [u.id for u in User.select(User.id).where(User.name.in_(names))]
