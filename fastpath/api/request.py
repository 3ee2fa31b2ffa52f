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
    try:
        doc = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"malformed JSON body: {exc}") from exc
    return fields(doc, allowed, required)


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
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise Invalid(f"{name}: expected an integer from {lo} to {hi}, got {value!r}")
    return value


def number(value, name: str, lo: float, hi: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = float("nan")
    if isinstance(value, bool) or not lo <= out <= hi:
        raise Invalid(f"{name}: expected a number from {lo:g} to {hi:g}, got {value!r}")
    return out


def words(req, name: str) -> list[str] | None:
    """A comma-separated, repeatable query parameter; None when absent."""
    values = req.get_param_as_list(name)
    if values is None:
        return None
    return [w.strip() for v in values for w in v.split(",") if w.strip()]


def flag(req, name: str) -> bool:
    value = req.get_param(name)
    if value is None:
        return False
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise Invalid(f"{name}: expected true or false, got {value!r}")


def timestamp(value: str | None, name: str) -> float | None:
    """`2026-03-01` or a full ISO 8601 time (UTC unless it says otherwise)."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"{name}: expected a date like 2026-03-01 or an ISO time, got {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def idempotency_key(req) -> str | None:
    """The `Idempotency-Key` header: a retried request carrying it is done only once."""
    key = req.get_header("Idempotency-Key")
    if key is not None and not KEY.match(key):
        raise Invalid("Idempotency-Key: expected 1-64 letters, digits, '_', '.', ':' or '-'")
    return key
