"""A clean SUT for each person: the reset after a lease, and the boot back before one.

A SUT in `reset` is neither free nor held. The reset goes by steps recorded
on the SUT (`facts["reset"]`) before each acts, so a restarted controller
resumes it: `due` (waits until the lessee's keys are gone) -> `start` (the
old boot id and the deadline recorded, then the power cycle or reboot is
triggered) -> `wait` (a new connection each poll until the SUT is back on its
own kernel, or the deadline passes) -> `healthy`, or `unhealthy` with the
reason. Nothing is ever rebooted on the scheduler's own host: a reboot that
the guard refuses leaves the SUT `unhealthy`, for an admin.
"""

from __future__ import annotations

import logging
import shlex
from typing import TYPE_CHECKING

from fastpath.control import prober
from fastpath.store.models import Sut
from fastpath.store.queries import control, suts
from fastpath.sut import boot
from fastpath.sut.facts import boot_facts
from fastpath.sut.remote import SshError

if TYPE_CHECKING:
    from fastpath.control.controller import Controller

log = logging.getLogger(__name__)
EMPTY = {k: "" for k in ("kernel", "initrd", "modules", "cmdline", "release")}


def baseline(known: dict | None, seen: dict) -> bool:
    """Whether the SUT runs its own kernel: no session mark, and its own release if known."""
    if prober.SESSION_MARK.search(seen.get("cmdline") or ""):
        return False
    base = (known or {}).get("base_release")
    return not base or seen.get("release") == base


class Resetter:
    def __init__(self, controller: Controller, own_host) -> None:
        self.controller, self.own_host = controller, own_host

    def reconcile(self, now: float) -> None:
        ctl = self.controller
        keyed = None
        for sut in suts.in_reset():
            if ctl.busy("probe", sut.id):
                continue
            step = (sut.facts or {}).get("reset") or {"phase": "due"}
            if step.get("phase") in ("due", "start"):
                keyed = control.suts_with_stale_keys() if keyed is None else keyed
                if sut.id not in keyed:  # the lessee's keys go first
                    ctl.submit("probe", [sut.id], self._start)
            elif now >= step.get("next", 0):
                ctl.submit("probe", [sut.id], self._check)

    def _start(self, sut_id: int) -> None:
        ctl = self.controller
        sut = suts.get_sut(sut_id)
        step = (sut.facts or {}).get("reset") or {}
        method = step.get("method") or "reboot"
        if method == "reboot" and self.own_host(sut.facts or {}):
            # for an admin: not re-checked into service until the class's reset changes
            self._fail(sut, f"reset refused: {sut.name} is the scheduler's own host (same machine "
                            "id); nothing is rebooted there. Use reset: power_cycle or reset: none",
                       refused=f"{step.get('kind') or 'reset'}:{method}")
            return
        with ctl.fence() as now:
            suts.reset_step(sut_id, phase="start", old_boot_id=(sut.facts or {}).get("boot_id"),
                            deadline=now + float(sut.params.get("boot_timeout") or 600))
        try:
            if method == "power_cycle":
                boot.power_cycle(sut.params["power_cycle"],
                                 {"name": sut.name, "host": sut.host, "port": str(sut.port), **EMPTY})
            else:
                remote = prober.connect(sut, ctl.connections)
                s = boot.sudo((sut.facts or {}).get("uid"))
                remote.run(boot.DETACH.format(shlex.quote(f"sleep 1; {s}systemctl reboot")), timeout=30)
                ctl.connections.drop(sut.name)
        except SshError as exc:
            self._fail(sut, f"reset ({method}) failed: {exc.message}")
            return
        with ctl.fence():
            suts.reset_step(sut_id, phase="wait", next=ctl.clock() + ctl.tuning.boot_poll)
        log.info("SUT %s: %s", sut.name, step.get("why") or "reset")

    def _check(self, sut_id: int) -> None:
        ctl = self.controller
        sut = suts.get_sut(sut_id)
        step = (sut.facts or {}).get("reset") or {}
        remote = seen = None
        try:
            remote = prober.connect(sut, ctl.connections, new=True)
            seen = boot_facts(remote)
        except SshError:
            seen = None
        finally:
            if remote is not None:
                remote.close()
        now = ctl.clock()
        if seen is None or seen["boot_id"] == step.get("old_boot_id"):  # not back yet
            if now > step.get("deadline", now):
                self._fail(sut, f"reset: {sut.name} did not come back within its boot_timeout")
            else:
                with ctl.fence() as at:
                    suts.reset_step(sut_id, next=at + ctl.tuning.boot_poll)
            return
        if not baseline(sut.facts, seen):
            self._fail(sut, f"reset: {sut.name} came back on kernel {seen['release']!r} with "
                            f"command line {seen['cmdline']!r}, not its own")
            return
        with ctl.fence() as at:
            suts.end_reset(sut_id, at, seen=seen)
        log.info("SUT %s is back on its own kernel %s", sut.name, seen["release"])

    def _fail(self, sut: Sut, reason: str, refused: str | None = None) -> None:
        ctl = self.controller
        with ctl.fence():
            suts.end_reset(sut.id, ctl.clock(), failed=reason, base=ctl.tuning.backoff_base,
                           refused=refused)
        log.error("SUT %s unhealthy: %s", sut.name, reason)
