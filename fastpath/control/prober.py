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


def connect(sut: Sut, connections: Connections) -> Remote:
    """An SSH connection to the SUT, pinning its host key if this is the first contact."""
    remote = connections.get(target(sut))
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
        """Probe one SUT and record the outcome (runs in a worker thread)."""
        sut = suts.get_sut(sut_id)
        try:
            remote = connect(sut, self.connections)
            seen = boot_facts(remote)
        except SshError as exc:
            self.connections.drop(sut.name)
            with self.fence():
                delay = suts.record_failure(sut_id, self.clock(), exc.message,
                                               base=self.base, cap=self.cap)
            log.warning("SUT %s unhealthy, next check in %.0fs: %s", sut.name, delay, exc.message)
            return
        if not (sut.facts or {}).get("base_cmdline"):
            seen["base_cmdline"] = SESSION_MARK.sub("", seen["cmdline"]).strip()
        with self.fence():
            suts.record_ok(sut_id, self.clock(), facts=seen)
