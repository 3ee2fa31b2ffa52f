"""The listing filters shared by `/plans` and `/leases` (the guide's defaults)."""

from __future__ import annotations

import re

from fastpath.api.request import flag, words
from fastpath.errors import Invalid, NotFound
from fastpath.store.queries import users

NAME = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"  # a user name (queries.users.USER_NAME)
USERS = f"^{NAME}(,{NAME})*$"


def words_of(known) -> str:
    """The pattern of a comma-separated list of the known words (an enum's, or strings)."""
    one = "(" + "|".join(getattr(e, "value", e) for e in known) + ")"
    return f"^{one}(,{one})*$"


def checked(req, name: str, pattern: str, what: str) -> list[str] | None:
    for value in req.get_param_as_list(name) or []:
        if not re.match(pattern, value):
            raise Invalid(f"{name}: expected comma-separated {what}, got {value[:64]!r}")
    return words(req, name)


def state_filter(req, enum, default, parse) -> list[str] | None:
    """`states` if given; all with `all_states`; else the active states."""
    named = checked(req, "states", words_of(enum), "states: " + ", ".join(e.value for e in enum))
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
    named = checked(req, "users", USERS, "user names")
    if named:
        ids = users.user_ids(named)
        missing = sorted(set(named) - {u.name for u in users.list_users()})
        if missing:  # as `/events?user=`: a name that names nobody
            raise NotFound(f"users: no user named {missing[0]!r}")
        return ids
    if flag(req, "all_users"):
        return None
    return [req.context.user.id]
