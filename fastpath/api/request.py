"""Reading request bodies and parameters, with errors that name the field."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from fastpath.errors import Invalid, TooLarge

MAX_JSON = 1024 * 1024


def body(req, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    """The JSON object in the request body; unknown or missing fields are named."""
    if req.content_length and req.content_length > MAX_JSON:
        raise TooLarge(f"request body larger than {MAX_JSON} bytes")
    raw = req.bounded_stream.read(MAX_JSON + 1)
    if len(raw) > MAX_JSON:
        raise TooLarge(f"request body larger than {MAX_JSON} bytes")
    if req.content_length is not None and len(raw) < req.content_length:
        raise Invalid(f"Content-Length: {req.content_length} bytes announced, {len(raw)} sent")
    return fields(parse_json(raw or b"{}", "JSON body"), allowed, required)


class WholeBody:
    """A request stream that ends only at its Content-Length: a client that stops short
    (and half-closes) gets a 400, instead of what it sent being taken for the whole."""

    def __init__(self, stream, length: int) -> None:
        self.stream, self.length, self.seen = stream, length, 0

    def read(self, size: int | None = -1) -> bytes:
        data = self.stream.read() if size is None or size < 0 else self.stream.read(size)
        self.seen += len(data)
        if not data and size != 0 and self.seen < self.length:
            raise Invalid(f"Content-Length: {self.length} bytes announced, {self.seen} sent")
        return data

    def drain(self) -> None:
        """Read to the announced end (falcon's own count is of bytes asked for, not got)."""
        while self.seen < self.length:
            self.read(min(self.length - self.seen, 1024 * 1024))


MAX_DEPTH = 64  # far deeper than any plan; the decoder and every walk over it stay shallow
INTEGER = re.compile(r"^\s*-?[0-9]{1,18}\s*$")  # ASCII digits: int() also takes '²', '٣'


def _constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes, what: str):
    """A JSON document, refusing NaN/Infinity and nesting deeper than MAX_DEPTH."""
    try:
        doc = json.loads(raw, parse_constant=_constant)
    except RecursionError as exc:
        raise Invalid(f"{what}: nested deeper than {MAX_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"{what}: malformed JSON: {exc}") from exc
    _check_depth(doc, what)
    return doc


def _check_depth(doc, what: str) -> None:
    stack = [(doc, 1)]
    while stack:  # iterative: a recursive walk would be the RecursionError we refuse
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise Invalid(f"{what}: nested deeper than {MAX_DEPTH} levels")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)


def fields(doc, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(doc, dict):
        raise Invalid("expected a JSON object")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise Invalid(f"unknown field {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
    for name in required:
        if name not in doc:
            raise Invalid(f"{name}: required field is missing")
    return doc


def integer(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, str) and INTEGER.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise Invalid(f"{name}: expected an integer from {lo} to {hi}, got {shown(value)}")
    return value


NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")  # float() takes '1_0', '٣'


def number(value, name: str, lo: float, hi: float) -> float:
    """A number from JSON, or from a query parameter written as JSON writes one."""
    if isinstance(value, str):
        value = float(value) if NUMBER.match(value) else value
    out = float(value) if isinstance(value, int | float) else float("nan")
    if isinstance(value, bool) or not lo <= out <= hi:
        raise Invalid(f"{name}: expected a number from {lo:g} to {hi:g}, got {shown(value)}")
    return out


def shown(value, limit: int = 40) -> str:
    """A value for an error message, cut short: a 400-digit number is not worth echoing."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 30 else "a huge integer"
    return text if len(text) <= limit else text[:limit] + "..."


def words(req, name: str) -> list[str] | None:
    """A comma-separated, repeatable query parameter; None when absent."""
    values = req.get_param_as_list(name)
    if values is None:
        return None
    return [w.strip() for v in values for w in v.split(",") if w.strip()]


def flag(req, name: str) -> bool:
    """A boolean query parameter: true or false (as the document says), absent: false."""
    value = req.get_param(name)
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid(f"{name}: expected true or false, got {value[:64]!r}")


# Dates that exist, years 1000-8999 (a time zone cannot take them out of datetime's range),
# each followed by an optional time of day and zone: the document's pattern for from/to/since.
_LEAP = r"[1-8][0-9](0[48]|[2468][048]|[13579][26])|(1[26]|[2468][048]|[3579][26])00"
DATE = (r"^(([1-8][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|"
        r"[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|(" + _LEAP + r")-02-29)"
        r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$")
_DATE = re.compile(DATE)


def timestamp(value: str | None, name: str) -> float | None:
    """`2026-03-01` or an ISO 8601 time `2026-03-01T12:00[:00][Z|+01:00]` (UTC unless it says)."""
    if value is None:
        return None
    if not _DATE.match(value):
        raise Invalid(f"{name}: expected a date like 2026-03-01 or an ISO time like "
                      f"2026-03-01T12:00Z, from year 1000 to 8999, got {value[:64]!r}")
    try:  # `$` also matches before a final newline, in the document's pattern as here
        when = datetime.fromisoformat(value.removesuffix("\n").replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        # year 1 at +01:00 or 9999 at -01:00 is outside what datetime can hold in UTC
        return when.astimezone(UTC).timestamp()
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"{name}: expected a date like 2026-03-01 or an ISO time from year 1 "
                      f"to 9999, got {value[:64]!r}") from exc


KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def idempotency_key(req) -> str | None:
    """The `Idempotency-Key` header: a retried request carrying it is done only once."""
    key = req.get_header("Idempotency-Key")
    if key is not None and not KEY.match(key):
        raise Invalid("Idempotency-Key: expected 1-64 letters, digits, '_', '.', ':' or '-'")
    return key
