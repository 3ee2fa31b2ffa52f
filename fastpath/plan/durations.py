"""Durations written as `90s`, `30m`, `1h`, `1h30m` or `2d`, or a number of seconds."""

from __future__ import annotations

import re

from fastpath.errors import InputError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TERM = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")
MAX_SECONDS = 100 * 365 * 86400.0  # a century: beyond it, a number is a typo or an attack


def parse_duration(value, *, source: str, path: str, maximum: float | None = None) -> float:
    """Seconds from a duration; InputError naming `path` for anything else."""
    seconds = _seconds(value)
    if seconds is None:
        raise InputError(source, path, f"expected a duration like 90s, 30m or 1h, up to 100 years, "
                         f"got {_shown(value)}")
    if maximum is not None and seconds > maximum:
        raise InputError(source, path, f"{value!r} is longer than the limit of {format_duration(maximum)}")
    return seconds


def _shown(value) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 30 else "a huge integer"
    return text if len(text) <= 40 else text[:40] + "..."


def _seconds(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # 0 <= x <= MAX: a 400-digit int would overflow float(), and inf/nan are no duration
        return float(value) if 0 <= value <= MAX_SECONDS else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip().replace(" ", "")
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        out = float(text)
    elif not text or TERM.sub("", text):  # something that is not a sequence of terms
        return None
    else:
        out = float(sum(float(n) * UNITS[u] for n, u in TERM.findall(text)))
    return out if out <= MAX_SECONDS else None


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
