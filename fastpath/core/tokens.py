"""Tokens and capabilities.

A token is 32 random bytes, shown once; only its SHA-256 is stored, and a
presented token is compared with the stored hash in constant time. SHA-256
without a salt is enough here because the secret has 256 bits of entropy: no
dictionary to defend against.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastpath.errors import Invalid

CAPABILITIES = ("admin", "exec", "lease", "query")


def new_token() -> str:
    """A fresh token. The prefix keeps it from ever starting with '-', which a shell command line
    (`fastpath preference set ... TOKEN`) would take for an option, and lets secret scanners spot it."""
    return "fpt_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def parse_capabilities(text: str) -> str:
    """Normalise a comma-separated capability list; Invalid names an unknown one."""
    if not isinstance(text, str):
        raise Invalid("capabilities: expected a comma-separated string such as 'exec,query'")
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words:
        raise Invalid(f"capabilities: none given; choose from {', '.join(CAPABILITIES)}")
    unknown = [w for w in words if w not in CAPABILITIES]
    if unknown:
        raise Invalid(
            f"capabilities: unknown {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(CAPABILITIES)}"
        )
    return ",".join(sorted(set(words)))


def has(capabilities: str, needed: str) -> bool:
    """Whether a user with `capabilities` may do what needs `needed`; admin may do anything."""
    caps = capabilities.split(",")
    return "admin" in caps or needed in caps
