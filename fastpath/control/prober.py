"""SUT health: probe a SUT over SSH and record what was seen.

A probe connects with the class's key (pinning the host key on first
contact), runs one trivial command that also reports the facts the scheduler
needs later (boot id, machine id, kernel release, command line), and records
the SUT healthy; a failure records it unhealthy with a capped backoff before
the next check.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

from fastpath.errors import LostLeadership
from fastpath.store.models import Sut
from fastpath.store.queries import suts
from fastpath.sut.connections import Connections
from fastpath.sut.facts import boot_facts
from fastpath.sut.remote import HostKeyChanged, Remote, SshError, Target

log = logging.getLogger(__name__)

SESSION_MARK = re.compile(r"\s*\bfastpath\.session=\S*")


def target(sut: Sut) -> Target:
    """How to reach a SUT: the configured host key wins over the one pinned on first use."""
    return Target(name=sut.name, host=sut.host, port=sut.port, user=sut.user, keyfile=sut.keyfile,
                  host_key=sut.params.get("host_key") or sut.host_key)


def connect(sut: Sut, connections: Connections, *, new: bool = False) -> Remote:
    """An SSH connection to the SUT, pinning its host key if this is the first contact.

    `new`: a new connection, not the cached one (the caller closes it), because a
    cached connection proves nothing about the next login.
    """
    remote = connections.open(target(sut)) if new else connections.get(target(sut))
    if sut.host_key is None and not sut.params.get("host_key"):
        pinned = suts.pin_host_key(sut.id, remote.host_key)
        if pinned != remote.host_key:  # pinned meanwhile by another contact
            connections.drop(sut.name)
            raise HostKeyChanged(f"{sut.name}: host key changed while it was being pinned")
    return remote


class Prober:
    def __init__(self, connections: Connections, fence: Callable[[], AbstractContextManager],
                 clock: Callable[[], float], *, backoff_base: float, backoff_cap: float) -> None:
        self.connections, self.fence, self.clock = connections, fence, clock
        self.base, self.cap = backoff_base, backoff_cap

    def check(self, sut_id: int) -> None:
        """Probe one SUT over a new connection and record the outcome (in a worker thread).

        A new connection, because a SUT whose sshd stopped listening still
        answers on a connection opened before; a person logging in would not get in.
        """
        sut = suts.get_sut(sut_id)
        remote = None
        try:
            remote = connect(sut, self.connections, new=True)
            seen = boot_facts(remote)
        except LostLeadership:
            raise
        except Exception as exc:  # an SshError, or a fault of ours: the SUT's backoff either way
            if isinstance(exc, SshError):
                reason = exc.message
            else:
                reason = f"probe failed: {type(exc).__name__}: {exc}"
                log.exception("probing SUT %s failed", sut.name)
            self.connections.drop(sut.name)
            with self.fence():
                delay = suts.record_failure(sut_id, self.clock(), reason, base=self.base, cap=self.cap)
            log.warning("SUT %s unhealthy, next check in %.0fs: %s", sut.name, delay, reason)
            return
        finally:
            if remote is not None:
                remote.close()
        self.record(sut, seen)

    def record(self, sut: Sut, seen: dict) -> None:
        """The SUT answered over a new connection with these boot facts."""
        if not (sut.facts or {}).get("base_cmdline"):
            seen["base_cmdline"] = SESSION_MARK.sub("", seen["cmdline"]).strip()
        if not (sut.facts or {}).get("base_release") and not SESSION_MARK.search(seen["cmdline"]):
            seen["base_release"] = seen["release"]  # its own kernel, to tell a job's from it
        with self.fence():
            suts.record_ok(sut.id, self.clock(), facts=seen, fresh=True)
