"""`fastpath sut`: look at a SUT over SSH."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from fastpath.cli.output import ExitStatus, emit_json, fail, json_option

FINGERPRINT_EPILOG = """\b
Host keys are checked against --known-hosts as OpenSSH does. A host that is
not in the file is refused (exit status 3) and its key's fingerprint shown:
check it, then run again with --accept-new, which trusts the key and appends
it to the file (OpenSSH's StrictHostKeyChecking=accept-new). A host whose key
differs from the file's is always refused.

\b
Exit status: 0 printed; 1 host key changed, or the facts could not be read;
2 bad option, keyfile or known_hosts file; 3 login refused or unknown host;
6 host unreachable.
"""


@click.group()
def sut() -> None:
    """Inspect a SUT over SSH."""


@sut.command(epilog=FINGERPRINT_EPILOG)
@click.argument("host")
@click.option("-u", "--user", default=getpass.getuser, show_default="your login name",
              help="Login name on the SUT.")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=22, show_default=True)
@click.option("-i", "--keyfile",
              help="Private key to log in with, and the only one offered "
                   "[default: keys of ssh-agent, then ~/.ssh/id_rsa, id_ecdsa, id_ed25519].")
@click.option("--known-hosts", default="~/.ssh/known_hosts", show_default=True,
              help="OpenSSH known_hosts file to check the host key against.")
@click.option("--accept-new", is_flag=True,
              help="Trust an unknown host's key and add it to --known-hosts.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
              help="Seconds to wait for the connection and the login.")
@json_option
def fingerprint(host: str, user: str, port: int, keyfile: str | None, known_hosts: str,
                accept_new: bool, timeout: float, as_json: bool) -> None:
    """Print HOST's hardware (HW:) and software (SW:) facts."""
    from fastpath.errors import Invalid
    from fastpath.sut import facts
    from fastpath.sut.remote import (
        AuthFailed,
        HostKeyChanged,
        KnownHosts,
        Remote,
        SshError,
        Target,
        UnknownHost,
        Unreachable,
    )

    if keyfile is not None:
        keyfile = _checked_keyfile(keyfile)
    known = KnownHosts(Path(known_hosts).expanduser(), accept_new=accept_new)
    target = Target(name=host, host=host, port=port, user=user, keyfile=keyfile)
    # one retry: a person is waiting, and a refused port is not going to open in a second
    status = {Unreachable: ExitStatus.UNAVAILABLE, AuthFailed: ExitStatus.DENIED,
              UnknownHost: ExitStatus.DENIED, HostKeyChanged: ExitStatus.ERROR}
    try:
        remote = Remote.connect(target, timeout=timeout, attempts=2, known_hosts=known,
                                default_keys=keyfile is None)
    except Invalid as exc:
        fail(exc.message, ExitStatus.USAGE)
    except SshError as exc:
        fail(exc.message, next((s for c, s in status.items() if isinstance(exc, c)), ExitStatus.ERROR))
    try:
        if remote.host_key_added:
            name = host if port == 22 else f"[{host}]:{port}"
            kind, _, _ = remote.host_key.partition(" ")
            click.echo(f"Warning: permanently added '{name}' ({kind}) to {known.path}", err=True)
        try:
            found = facts.fingerprint(remote)
        except SshError as exc:
            fail(exc.message, ExitStatus.ERROR)
    finally:
        remote.close()
    if as_json:
        emit_json(found)
    else:
        click.echo(facts.render(found))


def _checked_keyfile(path: str) -> str:
    """The keyfile's path, once it is known to hold a private key paramiko can use.

    paramiko reports a missing or malformed keyfile like a network failure, so
    it is checked here, where the message can name the file.
    """
    import paramiko

    full = Path(path).expanduser()
    if not full.is_file():
        fail(f"keyfile {path}: no such file", ExitStatus.USAGE)
    try:
        paramiko.PKey.from_path(full)
    except paramiko.PasswordRequiredException:
        fail(f"keyfile {path} is protected by a passphrase: load it into ssh-agent (ssh-add) "
             "and run without --keyfile", ExitStatus.USAGE)
    except (OSError, ValueError, paramiko.SSHException) as exc:
        fail(f"keyfile {path}: not a private key: {exc}", ExitStatus.USAGE)
    return str(full)
