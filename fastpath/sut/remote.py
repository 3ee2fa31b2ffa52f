"""One SSH connection to a SUT (paramiko), with errors classified at the border.

Host keys are trusted on first use and pinned by the caller (the scheduler
keeps them in its database): a connection offered a different key than the
pinned one fails with `HostKeyChanged` before any command runs. Commands a
person runs (`fastpath sut fingerprint`) check an OpenSSH known_hosts file
instead (`KnownHosts`). Transient transport errors are retried for a few
seconds with tenacity; anything longer is the controller's business.

Commands run in one remote shell per connection (`fastpath.sut.shell`) and
file work goes through one SFTP session per connection: each new session
would cost a round trip and the login shell's start-up again.
"""

from __future__ import annotations

import base64
import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko
import tenacity

from fastpath.errors import Invalid, TemporaryError
from fastpath.sut.shell import Shell

log = logging.getLogger(__name__)


class SshError(TemporaryError):
    """The SUT could not be reached over SSH."""


class Unreachable(SshError):
    """The SUT does not answer over SSH."""


class AuthFailed(SshError):
    """The SUT refused the scheduler's key."""


class HostKeyChanged(SshError):
    """The SUT offered a host key other than the one pinned on first contact."""


class UnknownHost(SshError):
    """The host is not in the known_hosts file and new keys are not accepted."""


class CommandFailed(SshError):
    """A command on the SUT failed."""


@dataclass(frozen=True)
class Target:
    """Where a SUT is and how to log in; `host_key` is the pinned key, if any."""

    name: str
    host: str
    port: int = 22
    user: str | None = None
    keyfile: str | None = None
    host_key: str | None = None


@dataclass(frozen=True)
class KnownHosts:
    """An OpenSSH known_hosts file to check host keys against, instead of a pinned key.

    An unknown host is refused unless `accept_new`, which appends its key to
    the file (OpenSSH's `StrictHostKeyChecking=accept-new`). The file is only
    ever appended to: paramiko's own saving would rewrite it and drop the
    lines it cannot parse (@cert-authority, FIDO keys).
    """

    path: Path
    accept_new: bool = False


@dataclass(frozen=True)
class Completed:
    status: int
    stdout: str
    stderr: str


def key_text(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()}"


def fingerprint(text: str) -> str:
    """The SHA256 fingerprint OpenSSH prints for a key given as `<type> <base64>`."""
    return _parse(text).fingerprint


class _Pin(paramiko.MissingHostKeyPolicy):
    """Accept an unknown key only when nothing is pinned (trust on first use)."""

    def __init__(self, pinned: str | None) -> None:
        self.pinned = pinned

    def missing_host_key(self, client, hostname, key) -> None:
        if self.pinned is not None:  # the SUT no longer offers the pinned key's type
            raise paramiko.BadHostKeyException(hostname, key, _parse(self.pinned))


class _KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Called by paramiko only for a host with no key at all in the file."""

    def __init__(self, known: KnownHosts) -> None:
        self.known, self.added = known, False

    def missing_host_key(self, client, hostname, key) -> None:
        offered = f"{key.get_name()} {key.fingerprint}"
        if not self.known.accept_new:
            raise UnknownHost(f"{hostname} is not in {self.known.path} (it offers {offered}); check "
                              "the fingerprint, then run again with --accept-new to trust and record it")
        self.known.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.known.path, "a") as f:
            f.write(paramiko.hostkeys.HostKeyEntry([hostname], key).to_line() or "")
        self.added = True


def _host_name(target: Target) -> str:
    """The host's name in known_hosts files, as OpenSSH and paramiko write it."""
    return target.host if target.port == 22 else f"[{target.host}]:{target.port}"


def _parse(text: str) -> paramiko.PKey:
    kind, b64 = text.split(" ", 1)
    return paramiko.PKey.from_type_string(kind, base64.b64decode(b64))


class Remote:
    """An open SSH connection. Use `connect()`; close it when done."""

    def __init__(self, target: Target, client: paramiko.SSHClient) -> None:
        self.target, self.client = target, client
        self.host_key = key_text(self._transport().get_remote_server_key())
        self.host_key_added = False  # this connection recorded the key in a known_hosts file
        self._shell: Shell | None = None
        self._sftp_client: paramiko.SFTPClient | None = None
        self._shell_lock, self._sftp_lock = threading.Lock(), threading.Lock()

    @classmethod
    def connect(cls, target: Target, *, timeout: float = 10.0, attempts: int = 3,
                sleep: Callable[[float], None] = time.sleep, known_hosts: KnownHosts | None = None,
                default_keys: bool = False) -> Remote:
        """Connect and log in, retrying transient failures for a few seconds.

        `known_hosts` checks the host key against that file instead of
        `target.host_key`; `default_keys` also tries the SSH agent and
        ~/.ssh/id_* (for a person's own login; the scheduler uses only the
        SUT's keyfile).
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=tenacity.wait_exponential(multiplier=0.3, max=2.0),
            retry=tenacity.retry_if_exception_type(Unreachable),
            sleep=sleep,
            reraise=True,
            before_sleep=tenacity.before_sleep_log(log, logging.DEBUG),
        )
        return retrying(cls._connect_once, target, timeout, known_hosts, default_keys)

    @classmethod
    def _connect_once(cls, target: Target, timeout: float, known_hosts: KnownHosts | None = None,
                      default_keys: bool = False) -> Remote:
        client = paramiko.SSHClient()
        policy: paramiko.MissingHostKeyPolicy
        if known_hosts is not None:
            policy = _KnownHostsPolicy(known_hosts)
            if known_hosts.path.exists():
                try:  # as system keys: paramiko never saves those back
                    client.load_system_host_keys(str(known_hosts.path))
                except (OSError, paramiko.hostkeys.InvalidHostKey) as exc:
                    raise Invalid(f"cannot read known hosts file {known_hosts.path}: "
                                  f"{_reason(exc)}") from exc
        else:
            policy = _Pin(target.host_key)
            if target.host_key:
                pinned = _parse(target.host_key)
                client.get_host_keys().add(_host_name(target), pinned.get_name(), pinned)
        client.set_missing_host_key_policy(policy)
        try:
            client.connect(
                target.host, port=target.port, username=target.user, key_filename=target.keyfile,
                timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                look_for_keys=default_keys, allow_agent=default_keys,
            )
        except UnknownHost:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            if known_hosts is not None:
                raise HostKeyChanged(
                    f"{target.name}: host key changed: {known_hosts.path} has "
                    f"{exc.expected_key.fingerprint}, the host offered {exc.key.fingerprint}; if it "
                    f"was reinstalled, remove the old key: ssh-keygen -f {known_hosts.path} "
                    f"-R '{_host_name(target)}'"
                ) from exc
            raise HostKeyChanged(
                f"{target.name}: host key changed: pinned {fingerprint(target.host_key or '')}, offered "
                f"{exc.key.fingerprint}; if the SUT was reinstalled, set its new key as host_key "
                "in the SUT classes file"
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise AuthFailed(
                f"{target.name}: SSH login as {target.user or 'the default user'} refused: {exc}"
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            if isinstance(exc, paramiko.SSHException) and "No authentication methods" in str(exc):
                raise AuthFailed(f"{target.name}: no SSH key to log in as {target.user or 'the default user'}"
                                 " with: give a keyfile or load a key into ssh-agent") from exc
            raise Unreachable(f"{target.name}: cannot connect to {target.host}:{target.port}: "
                              f"{_reason(exc)}") from exc
        remote = cls(target, client)
        remote.host_key_added = isinstance(policy, _KnownHostsPolicy) and policy.added
        return remote

    def alive(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def _transport(self) -> paramiko.Transport:
        transport = self.client.get_transport()
        if transport is None:
            raise Unreachable(f"{self.target.name}: the SSH connection is closed")
        return transport

    def run(self, script: str, *, timeout: float = 60.0, check: bool = True,
            stdin: bytes | None = None) -> Completed:
        """Run a POSIX shell script on the SUT (in its own `sh`: no quoting).

        In the connection's long-lived shell, unless another thread is using it or the
        script needs `stdin`: then in a session of its own, fed the script and `stdin`.
        """
        try:
            if stdin is None and self._shell_lock.acquire(blocking=False):
                try:
                    status, out, err = self._in_shell(script, timeout)
                finally:
                    self._shell_lock.release()
            else:
                status, out, err = self._exec(script, timeout, stdin)
        except (OSError, EOFError, paramiko.SSHException, AttributeError) as exc:
            self.close()
            raise Unreachable(f"{self.target.name}: SSH session failed: {_reason(exc)}") from exc
        done = Completed(status, out.decode(errors="replace"), err.decode(errors="replace"))
        if check and status != 0:
            first = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            raise CommandFailed(f"{self.target.name}: command failed with status {status}: "
                                + " | ".join(first))
        return done

    def _in_shell(self, script: str, timeout: float) -> tuple[int, bytes, bytes]:
        if self._shell is not None and not self._shell.usable():  # it ended between scripts
            self._shell.close()
            self._shell = None
        if self._shell is None:
            self._shell = Shell(self._transport(), timeout)
        return self._shell.run(script, timeout)

    def _exec(self, script: str, timeout: float, stdin: bytes | None) -> tuple[int, bytes, bytes]:
        channel = self._transport().open_session(timeout=timeout)
        channel.settimeout(timeout)
        channel.exec_command("sh -s")
        channel.sendall(script.encode() + b"\n" + (stdin or b""))
        channel.shutdown_write()
        out, err = _drain(channel, time.monotonic() + timeout)
        status = channel.recv_exit_status()
        channel.close()
        return status, out, err

    def put(self, local: Path, remote: str) -> None:
        self._sftp(lambda sftp: sftp.put(str(local), remote))

    def get(self, remote: str, local: Path) -> None:
        self._sftp(lambda sftp: sftp.get(remote, str(local)))

    def sftp(self, action: Callable[[paramiko.SFTPClient], object]):
        return self._sftp(action)

    def _sftp(self, action):
        try:
            with self._sftp_lock:
                if self._sftp_client is None:
                    self._sftp_client = self.client.open_sftp()
                return action(self._sftp_client)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise CommandFailed(f"{self.target.name}: SFTP: {_reason(exc)}") from exc
            self.close()
            raise Unreachable(f"{self.target.name}: SFTP failed: {_reason(exc)}") from exc

    def close(self) -> None:
        self._shell, self._sftp_client = None, None
        self.client.close()  # ends the shell's and the SFTP session's channels too


def _drain(channel: paramiko.Channel, deadline: float) -> tuple[bytes, bytes]:
    """Read both streams until the command exits (never block on one while the other fills)."""
    out, err = bytearray(), bytearray()
    while True:
        progressed = False
        while channel.recv_ready():
            out += channel.recv(65536)
            progressed = True
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
            progressed = True
        if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
            return bytes(out), bytes(err)
        if time.monotonic() > deadline:
            raise TimeoutError("command timed out")
        if not progressed:  # the channel's fileno signals data on either stream
            select.select([channel], [], [], 0.05)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
