"""The name a controller holds the lead under, and whether its holder is provably dead.

`host:pid:boot.start` (boot: the start of this boot's id; start: the process's
start time in clock ticks since boot). A controller that finds the lead held
under a name of its own host can tell for certain that the holder is gone:
another boot, no such pid, a zombie, or the pid reused by a process that
started at another time. Anything else (another host, a name in another
form, a frozen but living process) is not proof: the lead must expire.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")


def _boot_id() -> str:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return ""


def _start_and_state(pid: int) -> tuple[str, str] | None:
    """The process's start time (ticks since boot) and state letter; None if there is none."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return rest[19], rest[0]


def me() -> str:
    pid = os.getpid()
    found = _start_and_state(pid)
    return f"{socket.gethostname()}:{pid}:{_boot_id()}.{found[0] if found else ''}"


def provably_dead(holder: str | None) -> bool:
    """True only when `holder` names a process of this host and boot that no longer runs."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid_text, _, ident = rest.partition(":")
    boot, _, start = ident.partition(".")
    if host != socket.gethostname() or not pid_text.isdigit() or not boot or not start:
        return False
    if boot != _boot_id():
        return bool(_boot_id())  # this host rebooted since: that process is gone
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # that is us
    found = _start_and_state(pid)
    return found is None or found[0] != start or found[1] in ("Z", "X")
