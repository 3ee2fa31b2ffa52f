"""One long-lived remote shell per SSH connection, to run many scripts on it.

A new SSH session costs a channel, an exec and the login shell's start-up
(its rc files: 100 ms and more on a SUT with a busy ~/.bashrc) for every
command. This shell is started once per connection (`sh`, under the login
shell) and runs each script in a child `sh -s`, so nothing a script does (cd,
set -e, exit, variables) leaks into the next one, and its standard input is
the script alone, never the protocol stream. The script travels base64-encoded
in a here-document (no quoting, no length limit); after it, the shell prints a
marker with the exit status on stdout and one on stderr, unique to this shell,
so each stream is read exactly up to the end of that script's output.

Whatever goes wrong mid-script (the shell killed, a timeout) leaves the stream
in an unknown state: the caller closes the shell and reports the SUT as it would
for a failed session. A shell found dead between scripts is simply replaced.
"""

from __future__ import annotations

import base64
import re
import select
import time
import uuid

import paramiko

SYNC = "printf '\\n%s\\n' {t}S; printf '\\n%s\\n' {t}S >&2\n"
SCRIPT = "base64 -d <<'{t}E' | sh -s\n{body}\n{t}E\nprintf '\\n{t}X %s\\n' \"$?\"; printf '\\n{t}X\\n' >&2\n"


class ShellDied(EOFError):
    """The remote shell ended before the script's end markers arrived."""


class Shell:
    """A `sh` on an open SSH transport. Not thread-safe: one script at a time."""

    def __init__(self, transport: paramiko.Transport, timeout: float) -> None:
        self.token = "FP" + uuid.uuid4().hex
        self.channel = transport.open_session(timeout=timeout)
        self.channel.exec_command("sh")
        # whatever the login shell's rc files print comes before this; it is skipped once
        self.channel.sendall(SYNC.format(t=self.token).encode())
        self._out, self._err = bytearray(), bytearray()
        self._synced = False
        self._done = re.compile(rb"\n" + self.token.encode() + rb"X (\d+)\n")

    def usable(self) -> bool:
        c = self.channel
        return not (c.closed or c.eof_received or c.exit_status_ready())

    def run(self, script: str, timeout: float) -> tuple[int, bytes, bytes]:
        """Run `script` in a child shell; (exit status, stdout, stderr)."""
        body = base64.encodebytes(script.encode() + b"\n").decode().rstrip("\n")
        self.channel.settimeout(timeout)
        self.channel.sendall(SCRIPT.format(t=self.token, body=body).encode())
        deadline = time.monotonic() + timeout
        if not self._synced:
            sync = b"\n" + self.token.encode() + b"S\n"
            self._read(lambda: sync in self._out and sync in self._err, deadline)
            del self._out[:self._out.index(sync) + len(sync)]
            del self._err[:self._err.index(sync) + len(sync)]
            self._synced = True
        end_err = b"\n" + self.token.encode() + b"X\n"
        found: list[re.Match] = []

        def complete() -> bool:
            if not found and (m := self._done.search(self._out)):
                found.append(m)
            return bool(found) and end_err in self._err

        self._read(complete, deadline)
        m = found[0]  # read before the buffer under it changes
        status, out, err_end = int(m.group(1)), bytes(self._out[:m.start()]), self._err.index(end_err)
        err = bytes(self._err[:err_end])
        del self._out[:m.end()]
        del self._err[:err_end + len(end_err)]
        return status, out, err

    def _read(self, complete, deadline: float) -> None:
        c = self.channel
        while not complete():
            progressed = False
            while c.recv_ready():
                self._out += c.recv(65536)
                progressed = True
            while c.recv_stderr_ready():
                self._err += c.recv_stderr(65536)
                progressed = True
            if progressed:
                continue
            if c.closed or c.exit_status_ready() or c.eof_received:
                if not (c.recv_ready() or c.recv_stderr_ready()):
                    raise ShellDied("the remote shell ended")
                continue
            if time.monotonic() > deadline:
                raise TimeoutError("command timed out")
            select.select([c], [], [], 0.05)

    def close(self) -> None:
        self.channel.close()
