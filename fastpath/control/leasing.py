"""The controller's side of leases: deadlines, the `lease expiring` event, and expiry.

Level-triggered like the rest of the loop: every pass records the warning of
each acquired lease whose warning time has come and expires each lease whose
deadline has passed, so a deadline that passed while the controller was down
is acted on at the first pass after a restart. Between passes a timer wakes
the loop at the next deadline, so expiry does not wait for the next tick.
The timer is only a wake-up call: nothing a restart would lose.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING

from fastpath.core.leasetime import WARN_BEFORE, warn_at
from fastpath.store.queries import leases

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

    def reconcile(self, now: float) -> None:
        """Warn, expire, and arm the wake-up for the next deadline."""
        ctl = self.controller
        for lease in leases.due_to_warn(now, WARN_BEFORE):
            if now >= warn_at(lease.acquired_at, lease.expires_at):
                with ctl.fence():
                    leases.warn_lease(lease.id, lease.expires_at, ctl.clock())
        for lease in leases.due_to_expire(now):
            with ctl.fence():
                if leases.expire_lease(lease.id, ctl.clock()):
                    log.info("lease %s expired", lease.id)
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


_OF: weakref.WeakKeyDictionary[Controller, Leasing] = weakref.WeakKeyDictionary()


def of(controller: Controller) -> Leasing:
    """The lease side of `controller` (made on first use, so the controller needs no wiring)."""
    found = _OF.get(controller)
    if found is None:
        found = _OF[controller] = Leasing(controller)
    return found
