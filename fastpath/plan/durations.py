"""Durations written as `90s`, `30m`, `1h` (placeholder until the plan module lands)."""

from __future__ import annotations

import re

from fastpath.errors import InputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value, *, source: str, path: str) -> float:
    if isinstance(value, bool):
        raise InputError(source, path, f"expected a duration like 90s, 30m or 1h, got {value!r}")
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(value))
    if not m:
        raise InputError(source, path, f"expected a duration like 90s, 30m or 1h, got {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]
