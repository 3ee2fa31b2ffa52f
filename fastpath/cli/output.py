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


def emit_json(doc) -> None:
    click.echo(json.dumps(doc, indent=2, sort_keys=True))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
