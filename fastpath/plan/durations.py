"""Durations written as `90s`, `30m`, `1h`, `1h30m` or `2d`, or a number of seconds."""

from __future__ import annotations

import re

from fastpath.errors import InputError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TERM = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(value, *, source: str, path: str, maximum: float | None = None) -> float:
    """Seconds from a duration; InputError naming `path` for anything else."""
    seconds = _seconds(value)
    if seconds is None:
        raise InputError(source, path, f"expected a duration like 90s, 30m or 1h, got {value!r}")
    if maximum is not None and seconds > maximum:
        raise InputError(source, path, f"{value!r} is longer than the limit of {format_duration(maximum)}")
    return seconds


def _seconds(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if 0 <= value < float("inf") else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if not text or TERM.sub("", text):  # something that is not a sequence of terms
        return None
    return float(sum(float(n) * UNITS[u] for n, u in TERM.findall(text)))


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 3600 -> 1h, 5400 -> 1h30m, 45 -> 45s."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest, parts = int(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"
