"""A lessee's public key: what is accepted, what is kept, the fingerprint OpenSSH shows, the tag."""

from __future__ import annotations

import subprocess

import pytest

from fastpath.core import sshkeys
from fastpath.errors import Invalid


@pytest.fixture(scope="module")
def pub(tmp_path_factory) -> tuple[str, str]:
    """A real key made by ssh-keygen, and the fingerprint ssh-keygen prints for it."""
    d = tmp_path_factory.mktemp("key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "k"), "-C", "me@host"],
                   check=True)
    text = (d / "k.pub").read_text().strip()
    fp = subprocess.run(["ssh-keygen", "-lf", str(d / "k.pub")], capture_output=True, text=True,
                        check=True).stdout.split()[1]
    return text, fp


def test_a_real_key_is_kept_without_comment_or_options(pub):
    text, fp = pub
    kind, data, _ = text.split()
    assert sshkeys.public_key(text) == f"{kind} {data}"
    assert sshkeys.public_key(f'command="rm -rf /",no-pty {text}') == f"{kind} {data}"
    assert sshkeys.fingerprint(sshkeys.public_key(text)) == fp


@pytest.mark.parametrize(("text", "words"), [
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----", "private key"),
    ("ssh-ed25519", "expected an OpenSSH public key"),
    ("hello world", "expected an OpenSSH public key"),
    ("ssh-ed25519 !!!notbase64", "malformed"),
    (42, "expected an OpenSSH public key line"),
    ("ssh-ed25519 " + "A" * 20000, "expected an OpenSSH public key line"),
])
def test_anything_else_is_refused(text, words):
    with pytest.raises(Invalid, match=words):
        sshkeys.public_key(text)


def test_a_key_that_lies_about_its_type(pub):
    with pytest.raises(Invalid, match="says it is ssh-rsa but holds a 'ssh-ed25519' key"):
        sshkeys.public_key("ssh-rsa " + pub[0].split()[1])


@pytest.mark.parametrize(("line", "lease"), [
    ("ssh-ed25519 AAAA fastpath-lease-17", 17),
    ("ssh-ed25519 AAAA fastpath-lease-17\n", 17),
    ("ssh-ed25519 AAAA me@host", None),
    ("ssh-ed25519 AAAA fastpath-lease-17 trailing", None),  # not ours: the tag ends the line
    ("# fastpath-lease-x", None),
    ('from="127.0.0.0/8" ssh-ed25519 AAAA fastpath-testbed', None),
])
def test_only_tagged_lines_are_ours(line, lease):
    assert sshkeys.tagged_lease(line) == lease
    if lease:
        assert sshkeys.line("ssh-ed25519 AAAA", lease) == line.strip()
