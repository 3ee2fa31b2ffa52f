"""How the CLI speaks: aligned tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import NoReturn

import click

from fastpath import errors


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # a failure the user cannot fix by changing the command
    USAGE = 2  # bad input: options, files, documents (click uses 2 for usage too)
    DENIED = 3  # no or unknown token, missing capability, not the owner
    NOT_FOUND = 4
    CONFLICT = 5  # the record is not in a state that allows this
    UNAVAILABLE = 6  # the scheduler or a database cannot be reached


EXIT = {
    errors.Invalid: ExitStatus.USAGE,
    errors.TooLarge: ExitStatus.USAGE,
    errors.Unauthorized: ExitStatus.DENIED,
    errors.Forbidden: ExitStatus.DENIED,
    errors.NotFound: ExitStatus.NOT_FOUND,
    errors.Conflict: ExitStatus.CONFLICT,
    errors.Unavailable: ExitStatus.UNAVAILABLE,
}


def fail(message: str, status: ExitStatus = ExitStatus.ERROR) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(int(status))


def reports_errors(fn: Callable) -> Callable:
    """Turn our errors into one line on stderr and the exit status of their class."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except errors.FastpathError as exc:
            status = next((EXIT[c] for c in type(exc).__mro__ if c in EXIT), ExitStatus.ERROR)
            fail(exc.message, status)

    return wrapper


def table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, object]]) -> str:
    """One record as `name: value` lines."""
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k + ':':<{width + 1}} {_cell(v)}" for k, v in pairs)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def when(iso: str | None) -> str | None:
    """A compact UTC time for tables: 2026-03-01 12:00:05."""
    return iso.replace("T", " ").removesuffix("Z") if iso else None


def eta(value: str | None) -> str | None:
    """An estimated start as the API gives it: a time, or "unknown"."""
    return value if value in (None, "unknown") else when(value)


def waiting(record: dict | None, *, always: bool = False) -> list[tuple[str, object]]:
    """The `name: value` lines that say why a queued lease or job waits (`always`: also as `-`
    when nothing waits, so that a record shows the same lines whatever its state)."""
    record = record or {}
    if record.get("position") is None and not always:
        return []
    return [("Queue position", record.get("position")), ("Waiting for", record.get("reason")),
            ("Expected start", eta(record.get("eta")))]


def watch_loop(render: Callable[[], str], interval: float,
               sleep: Callable[[float], None] | None = None) -> None:
    """Show `render()` again every `interval` seconds, whenever it changed, until Ctrl-C.

    On a terminal the screen is redrawn; elsewhere (a pipe, a log) each change is
    printed after a blank line, so the output is a history.
    """
    import time

    sleep = sleep or time.sleep
    shown = None
    try:
        while True:
            text = render()
            if text != shown:
                if sys.stdout.isatty():
                    click.clear()
                elif shown is not None:
                    click.echo("")
                click.echo(text)
                shown = text
            sleep(interval)
    except KeyboardInterrupt:
        raise SystemExit(0) from None


watch_options = [
    click.option("--watch", is_flag=True, help="Show the listing again whenever it changes, "
                 "until Ctrl-C."),
    click.option("--interval", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
                 help="Seconds between two looks, with --watch."),
]


def watch_option(fn: Callable) -> Callable:
    for option in reversed(watch_options):
        fn = option(fn)
    return fn


def json_text(doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True)


def emit_json(doc) -> None:
    click.echo(json_text(doc))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def listing_options(noun: str) -> Callable:
    """What `lease-list` and `plan-list` share: an ID, and --states, --users, --all-users, --all-states."""
    def wrap(fn: Callable) -> Callable:
        fn = click.option("--all-states", is_flag=True, help=f"{noun} in every state.")(fn)
        fn = click.option("--all-users", is_flag=True, help=f"{noun} of every user.")(fn)
        fn = click.option("--users", multiple=True, help="Comma-separated user names (repeatable).")(fn)
        fn = click.option("--states", multiple=True, help="Comma-separated states (repeatable).")(fn)
        return click.argument("id", type=click.IntRange(min=1), required=False)(fn)
    return wrap


def listed(client, path: str, states: tuple[str, ...], users: tuple[str, ...], all_users: bool,
           all_states: bool) -> dict:
    """GET a listing with the filters of `listing_options`."""
    return client.get(path, states=",".join(states) or None, users=",".join(users) or None,
                      all_users=all_users, all_states=all_states)


def short(text: str | None, width: int = 60) -> str | None:
    """One line of at most `width` characters, for a table cell."""
    if not text:
        return None
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."
