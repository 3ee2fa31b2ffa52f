"""The listing filters shared by `/plans` and `/leases` (the guide's defaults)."""

from __future__ import annotations

from fastpath.api.request import flag, words
from fastpath.errors import Invalid
from fastpath.store.queries import users


def state_filter(req, enum, default, parse) -> list[str] | None:
    """`states` if given; all with `all_states`; else the active states."""
    named = words(req, "states")
    if named:
        try:
            return [s.value for s in parse(enum, named)]
        except ValueError as exc:
            raise Invalid(f"states: {exc}") from exc
    if flag(req, "all_states"):
        return None
    return [s.value for s in default]


def owner_filter(req) -> list[int] | None:
    """`users` if given; everyone with `all_users`; else the caller."""
    named = words(req, "users")
    if named:
        ids = users.user_ids(named)
        missing = sorted(set(named) - {u.name for u in users.list_users()})
        if missing:
            raise Invalid(f"users: no user named {missing[0]!r}")
        return ids
    if flag(req, "all_users"):
        return None
    return [req.context.user.id]
