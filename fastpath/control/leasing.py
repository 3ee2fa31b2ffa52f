"""The controller's side of leases: the hand-over, deadlines, expiry and the lessee's key.

The hand-over: before a lease becomes `acquired`, its SUT must answer a
**new** SSH connection (a cached one proves nothing about the next login),
and the lessee's key is added to the SUT's authorized_keys over that same
connection. The key is recorded before it is installed (`LeaseKey`), and
every pass removes, from each SUT, the tagged keys of leases that no longer
hold it there: a crash between a release and the removal leaves no access
behind, and such a SUT is not handed out until its keys are gone.

Level-triggered like the rest of the loop: every pass records the warning of
each acquired lease whose warning time has come and expires each lease whose
deadline has passed, so a deadline that passed while the controller was down
is acted on at the first pass after a restart. Between passes a timer wakes
the loop at the next deadline, so expiry does not wait for the next tick.
The timer is only a wake-up call: nothing a restart would lose.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import TYPE_CHECKING

from fastpath.control import failpoints, metrics, prober
from fastpath.control.reset import Resetter, baseline
from fastpath.control.steps import this_host
from fastpath.core import guard, sshkeys
from fastpath.core.leasetime import WARN_BEFORE, warn_at
from fastpath.core.states import LeaseState
from fastpath.core.sutclass import boot_back_method
from fastpath.store.queries import control, inventory, leases, suts
from fastpath.sut import access
from fastpath.sut.facts import boot_facts
from fastpath.sut.remote import SshError

if TYPE_CHECKING:
    from fastpath.control.controller import Controller

log = logging.getLogger(__name__)


class Leasing:
    """What the controller does for leases beyond handing SUTs out."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self._timer: threading.Timer | None = None
        self._timer_at: float | None = None
        self._lock = threading.Lock()
        self._host: dict | None = None
        self.resetter = Resetter(controller, self._own_host)

    # --- the hand-over ----------------------------------------------------------

    def hand_over(self, lease_id: int, sut_id: int, fresh: bool) -> None:
        """Give the SUT to the queued lease: at once if it answered a new connection just now
        and there is no key to install, else after a new connection (in a worker)."""
        ctl = self.controller
        facts = suts.get_sut(sut_id).facts or {}
        lease = leases.get_lease(lease_id)
        if fresh and not lease.ssh_key and baseline(facts, facts):
            with ctl.fence("grant") as at:
                granted = leases.grant_lease(lease_id, sut_id, at)
            if granted:
                metrics.handed_over("lease", sut_id, lease.queued_at, at)
            return
        # as a probe of that SUT: no other probe or hand-over runs on it meanwhile
        ctl.submit("probe", [sut_id], lambda sid: self._hand_over(lease_id, sid))

    def _hand_over(self, lease_id: int, sut_id: int) -> None:
        ctl = self.controller
        lease, sut = leases.get_lease(lease_id), suts.get_sut(sut_id)
        if lease.state != LeaseState.QUEUED:
            return
        remote = None
        # The machine id, for the guard, as the SUT's probes saw it (it never changes). The key
        # goes in with the same command as the probe (one round trip), recorded first: if the
        # SUT turns out to need a boot back, the sweep takes the key away again before that.
        known = sut.facts or {}
        maybe_own = not known.get("machine_id") or self._own_host(known)  # unknown: fail closed
        install = bool(lease.ssh_key) and (not maybe_own
                                           or bool(sut.params.get("lessee_keys_on_own_host")))
        try:
            remote = prober.connect(sut, ctl.connections, new=True)
            if install:
                with ctl.fence():
                    leases.key_intent(lease_id, sut_id, ctl.clock())
            key_script = (access.install_script(sshkeys.line(lease.ssh_key, lease_id),
                                                sut.params.get("authorized_keys"))
                          if install and lease.ssh_key else "")
            seen = boot_facts(remote, key_script)
            ctl.prober.record(sut, dict(seen))
            if not baseline(sut.facts, seen):  # a job left its kernel: back to the SUT's own first
                with ctl.fence():
                    suts.begin_reset(sut_id, f"booting back to its own kernel for lease {lease_id}",
                                     boot_back_method(sut.params), ctl.clock(), kind="boot_back")
                return
            if lease.ssh_key and not install:
                with ctl.fence():
                    leases.note_access(lease_id, "key not installed: the SUT is the "
                                       "scheduler's own host (lessee_keys_on_own_host is off)")
            installed = install
            with ctl.fence("grant") as at:
                granted = leases.grant_lease(lease_id, sut_id, at,
                                             kernel=(seen["release"], seen["cmdline"]))
            if granted:
                metrics.handed_over("lease", sut_id, lease.queued_at, at)
            if installed and not granted:  # cancelled meanwhile: take the key back now
                self._remove(remote, sut_id, [lease_id])
        except SshError as exc:
            ctl.connections.drop(sut.name)
            with ctl.fence():
                suts.record_failure(sut_id, ctl.clock(), exc.message,
                                    base=ctl.prober.base, cap=ctl.prober.cap)
            log.warning("SUT %s not handed to lease %s: %s", sut.name, lease_id, exc.message)
        finally:
            if remote is not None:
                remote.close()

    def _own_host(self, seen: dict) -> bool:
        if self._host is None:
            self._host = this_host()
        return guard.is_own_host(seen, self._host)

    # --- keys that must go --------------------------------------------------------

    def _sweep(self) -> None:
        """Remove, SUT by SUT, the keys of leases that no longer hold it (level-triggered)."""
        stale: dict[int, list[int]] = {}
        for row in control.stale_keys():
            stale.setdefault(row.sut_id, []).append(row.lease_id)
        for sut_id, ids in stale.items():
            if not self.controller.busy("probe", sut_id):
                self.controller.submit("probe", [sut_id], functools.partial(self._remove_keys, ids))

    def _remove_keys(self, lease_ids: list[int], sut_id: int) -> None:
        self._remove(None, sut_id, lease_ids)

    def _remove(self, remote, sut_id: int, lease_ids: list[int]) -> None:
        ctl = self.controller
        sut = suts.get_sut(sut_id)
        holder = inventory.holders(sut.sutclass_id).get(sut_id)
        keep = holder[1] if holder and holder[0] == "lease" else None  # the key of who holds it now
        try:
            own = remote or prober.connect(sut, ctl.connections)
            failpoints.reach("before-key-removal")
            access.remove(own, keep, sut.params.get("authorized_keys"))
        except SshError as exc:
            ctl.connections.drop(sut.name)
            log.warning("SUT %s: lessee keys not removed yet: %s", sut.name, exc.message)
            return
        with ctl.fence():
            leases.keys_removed(sut_id, lease_ids, ctl.clock())
        log.info("SUT %s: removed the keys of leases %s", sut.name, lease_ids)

    # --- deadlines --------------------------------------------------------------

    def reconcile(self, now: float) -> None:
        """Warn, expire, remove stale keys, and arm the wake-up for the next deadline."""
        ctl = self.controller
        for lease in leases.due_to_warn(now, WARN_BEFORE):
            if lease.acquired_at is None or lease.expires_at is None:
                continue  # not yet acquired, or no time limit
            if now >= warn_at(lease.acquired_at, lease.expires_at):
                with ctl.fence():
                    leases.warn_lease(lease.id, lease.expires_at, ctl.clock())
        for lease in leases.due_to_expire(now):
            with ctl.fence():
                if leases.expire_lease(lease.id, ctl.clock()):
                    log.info("lease %s expired", lease.id)
        self._sweep()
        self.resetter.reconcile(now)
        self._wake_at(leases.next_deadline(), now)

    def _wake_at(self, at: float | None, now: float) -> None:
        with self._lock:
            if at is None or (self._timer_at is not None and self._timer_at <= at
                              and self._timer is not None and self._timer.is_alive()):
                return
            if self._timer is not None:
                self._timer.cancel()
            # a hair after the deadline, so that the pass it wakes finds the lease due
            self._timer = threading.Timer(max(0.0, at - now) + 0.005, self.controller.wake.set)
            self._timer.daemon = True
            self._timer_at = at
            self._timer.start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


