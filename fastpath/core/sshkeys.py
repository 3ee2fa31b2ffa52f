"""A lessee's public SSH key: checked, normalised, fingerprinted, and tagged for authorized_keys.

Pure. Only the key itself is kept ("<type> <base64>"): options and comments
of the submitted line are dropped, so that nobody can smuggle `command=` or
`from=` options into a SUT's authorized_keys. Each line the scheduler writes
ends with the tag of its lease, and the scheduler only ever removes lines
that end with such a tag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct

from fastpath.errors import Invalid
from fastpath.sut.access import TAG

TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
         "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
MAX_KEY = 16 * 1024
TAGGED = re.compile(" " + re.escape(TAG) + r"(\d+)$")


def public_key(text: object) -> str:
    """The key of an OpenSSH public key line, as "<type> <base64>"; Invalid for anything else."""
    if not isinstance(text, str) or len(text) > MAX_KEY:
        raise Invalid("ssh_key: expected an OpenSSH public key line like 'ssh-ed25519 AAAA... me@host'")
    if "PRIVATE KEY" in text:
        raise Invalid("ssh_key: that is a private key; give the public key (the .pub file)")
    words = text.strip().split()
    for i, word in enumerate(words[:-1]):  # options may come first, as in authorized_keys
        if word in TYPES:
            kind, data = word, words[i + 1]
            break
    else:
        raise Invalid(f"ssh_key: expected an OpenSSH public key of type {', '.join(TYPES[:3])}, ...")
    try:
        blob = base64.b64decode(data, validate=True)
        (size,) = struct.unpack(">I", blob[:4])
        named = blob[4:4 + size].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        raise Invalid("ssh_key: the key's base64 data is malformed") from None
    if named != kind:
        raise Invalid(f"ssh_key: the key says it is {kind} but holds a {named!r} key")
    return f"{kind} {data}"


def fingerprint(key: str) -> str:
    """The SHA256 fingerprint OpenSSH prints (`ssh-keygen -lf`)."""
    blob = base64.b64decode(key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def line(key: str, lease_id: int) -> str:
    """The authorized_keys line for a lease: the key, tagged with the lease id."""
    return f"{key} {TAG}{lease_id}"


def tagged_lease(text: str) -> int | None:
    """The lease id a line of authorized_keys is tagged with, or None for anyone else's line."""
    match = TAGGED.search(text.rstrip("\n"))
    return int(match.group(1)) if match else None
