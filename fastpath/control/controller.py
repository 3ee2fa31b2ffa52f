"""The controller: the one process that acts on SUTs.

A level-triggered loop. Each pass re-reads what is due from the database,
decides with pure functions (`schedule`) and applies idempotent steps.
Passes run on a timer, at once when the API bumps the change counter or a
worker finishes, and when an alarm set by a worker (`wake_at`: a job's next
poll, due sooner than the timer) goes off. SSH work (probes, job steps, publishing) runs in a bounded
pool of threads so that a slow SUT never delays a hand-over; the pass only
starts work and never waits for it.

Only the leader acts. Leadership is a row taken and renewed by
compare-and-set; every write of the controller happens inside
`control.leading()`, which commits only while this controller still leads.
The controller holds nothing a restart would lose: what is in flight is
re-derived from the database.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol

from fastpath.control import failpoints, holder, metrics
from fastpath.control.leasing import Leasing
from fastpath.control.prober import Prober
from fastpath.control.tuning import Tuning
from fastpath.core.schedule import Place, placed, placing, schedule
from fastpath.errors import FastpathError, LostLeadership, StaleWrite
from fastpath.store import changes
from fastpath.store.db import db
from fastpath.store.queries import control, jobs, suts
from fastpath.sut.connections import Connections

log = logging.getLogger(__name__)


class Worker(Protocol):
    """Work the controller runs in its pool: `due(now)` names the records, `run(id)` acts on one."""

    kind: str

    def due(self, now: float) -> list[int]: ...

    def run(self, id: int) -> None: ...


class Wake(threading.Event):
    """Set by workers, timers and signals to ask for a pass now; also ends the wait on the watcher."""

    watcher: changes.Watcher | None = None

    def set(self) -> None:
        super().set()
        if self.watcher is not None:
            self.watcher.poke()


class Controller:
    def __init__(
        self,
        *,
        name: str | None = None,
        tuning: Tuning = Tuning(),
        clock: Callable[[], float] = time.time,
        connections: Connections | None = None,
        resync: Callable[[], None] | None = None,
        executor=None,
    ) -> None:
        self.name = name or holder.me()
        self.tuning, self.clock = tuning, clock
        self.connections = connections or Connections()
        self.resync = resync
        self.wake = Wake()
        self.resync_requested = threading.Event()
        self.leading_since: float | None = None
        self._renewed = 0.0
        self._inflight: set[tuple[str, int]] = set()
        self._alarms: list[float] = []  # a heap of clock times: passes due before the timer's
        self._lock = threading.Lock()
        self._pool = executor or ThreadPoolExecutor(tuning.workers, thread_name_prefix="fastpath-work")
        self._lost = threading.Event()
        self.prober = Prober(self.connections, self.fence, clock,
                             backoff_base=tuning.backoff_base, backoff_cap=tuning.backoff_cap)
        self.leasing = Leasing(self)  # lease deadlines, lessee keys, resets
        self.workers: list[Worker] = []

    def register(self, worker: Worker) -> None:
        """Add a worker (the job runner, the publisher): each pass runs what it says is due."""
        if any(w.kind == worker.kind for w in self.workers):
            raise ValueError(f"a {worker.kind} worker is registered already")
        self.workers.append(worker)

    # --- leadership -----------------------------------------------------------

    @contextmanager
    def fence(self, what: str = "write") -> Iterator[float]:
        """A transaction that commits only while this controller leads (checked again at commit).

        Yields the time to stamp the writes with; the transaction commits only
        soon after it (`Tuning.stamp`), so a stamp is the time of the commit.
        """
        with control.leading(self.name, self.clock, self.tuning.ttl, self.tuning.stamp) as now:
            yield now
            failpoints.freeze("in-fence")  # a test SIGSTOPs us here, inside the transaction
            failpoints.freeze(f"in-{what}")

    def lead(self) -> bool:
        """Take or renew the lead; step down if it was lost. True while leading."""
        now = self.clock()
        if self.leading_since is not None and not self._lost.is_set():
            if now - self._renewed < self.tuning.renew:
                return True
        try:
            taken = control.take_leadership(self.name, now, self.tuning.ttl)
            if not taken and self.leading_since is None:
                current = control.leader()
                if current is not None and current.holder and holder.provably_dead(current.holder):
                    # a restart on the same host: the old process is gone, do not wait out its lead
                    taken = control.take_over(self.name, current.holder, now, self.tuning.ttl)
                    if taken:
                        log.info("took the lead from %s, which no longer runs", current.holder)
        except Exception:  # the database is away: we cannot know, so we must not act
            log.exception("cannot renew leadership")
            taken = False
        if taken and self._lost.is_set() and self.leading_since is not None:
            taken = False  # a fenced write failed: step down once before leading again
        metrics.IS_LEADER.set(1 if taken else 0)
        if taken:
            self._renewed = now
            if self.leading_since is None:
                self.leading_since = now
                log.info("controller %s is now the active controller", self.name)
            return True
        if self.leading_since is not None:
            log.error("controller %s lost the lead; standing by", self.name)
            self._step_down()
        return False

    def _step_down(self) -> None:
        self.leading_since = None
        self._lost.clear()
        self.connections.close()

    # --- the loop -------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Lead (or stand by) and reconcile until `stop` is set.

        Between passes it blocks on the process's change watcher (no polling):
        a write, a finished worker (`wake`), the next timed pass or the next
        renewal of the lead ends the wait. A change or a wake-up gets a full
        pass; with none, a pass every `tick` starts only what time made due
        (`run_timed`), and a full one runs every `full_tick`.
        """
        watcher = self.wake.watcher = changes.watcher(poll=self.tuning.poll)
        last_seen, next_pass, next_full = -1, 0.0, 0.0
        try:
            while not stop.is_set():
                try:
                    db.connect(reuse_if_open=True)
                    if not self.lead():
                        stop.wait(self.tuning.standby)
                        continue
                    seen, now = watcher.generation, self.clock()
                    if (self.wake.is_set() or seen != last_seen or now >= next_full
                            or self._alarm_rang()):
                        self.wake.clear()
                        last_seen = seen
                        with metrics.PASS_SECONDS.time():
                            self.run_once()
                        next_full = self.clock() + self.tuning.full_tick
                        next_pass = self.clock() + self.tuning.tick
                    elif now >= next_pass:
                        self.run_timed()
                        next_pass = self.clock() + self.tuning.tick
                except StaleWrite as exc:  # the pass stalled in a write that did not commit: again
                    log.warning("controller pass: %s", exc.message)
                    self.wake.set()
                except Exception:  # the loop never dies; the next pass re-reads everything
                    log.exception("controller pass failed")
                    if not db.is_closed():
                        db.close()
                    stop.wait(self.tuning.tick)
                    continue
                timeout = min(next_pass - self.clock(), self.tuning.renew, self._until_alarm())
                watcher.wait(last_seen, max(0.0, timeout), until=lambda: self.wake.is_set() or stop.is_set())
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        self.leasing.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.connections.close()
        if self.leading_since is not None:
            try:
                with db.connection_context():
                    control.release_leadership(self.name)
            except Exception:
                log.exception("cannot release leadership")
            self.leading_since = None
            metrics.IS_LEADER.set(0)

    def run_once(self) -> None:
        """One level-triggered pass: start whatever is due. Never waits for SSH."""
        if self.resync_requested.is_set() and self.resync is not None:
            self.resync_requested.clear()
            try:
                self.resync()
            except FastpathError as exc:
                log.error("SUT classes not reloaded: %s", exc.message)
        now = self.clock()
        self.submit("probe", [s.id for s in suts.suts_to_probe(now, self.tuning.probe_interval)],
                    self.prober.check)
        self.leasing.reconcile(now)  # lease deadlines and lessee keys (fastpath.control.leasing)
        self.allocate(now)
        now = self.clock()  # what allocate just assigned is due too
        for worker in self.workers:
            self.submit(worker.kind, worker.due(now), worker.run)

    def run_timed(self) -> None:
        """A pass with no change to react to: start only what time made due (probes, job polls,
        retries). What reacts to changes (allocation, lease keys, resets) waits for the next full
        pass: a change, a finished worker or a lease deadline wakes one at once, and one runs
        every `full_tick` anyway."""
        now = self.clock()
        self.submit("probe", [s.id for s in suts.suts_to_probe(now, self.tuning.probe_interval)],
                    self.prober.check)
        for worker in self.workers:
            self.submit(worker.kind, worker.due(now), worker.run)

    def allocate(self, now: float) -> None:
        """Hand free SUTs to the queue, class by class; each plan's jobs as its placement says."""
        keyed = control.suts_with_stale_keys()  # one query for all classes
        for cls in control.enabled_classes():
            if not self._free(cls.id, now, keyed):
                continue
            demand = control.demand(cls.id, now)
            if not demand:
                continue
            # the plans' jobs first, the free SUTs after: a job that ends in between then looks
            # like it still holds its SUT, never like someone else's hold (which would send its
            # plan's next job elsewhere, out of balance)
            plans = control.placing(cls.id)
            unheld = control.free_suts(cls.id, now, self.tuning.fresh, keyed)
            usable = [s.id for s in control.usable_suts(cls.id)]
            places: dict[int, Place] = {}
            for mode, plan_jobs in plans:
                places.update(placing(mode, plan_jobs, usable, [s.id for s in unheld]))
            free = [s for s in unheld if not self.busy("probe", s.id)]  # a probing SUT is free soon
            for a in schedule(free, placed(demand, places), control.held_counts(cls.id)):
                # stamped now, not at the pass's start: the SUT may have been freed after that,
                # and its usage must not seem to begin before its previous holder's ended
                if a.demand.kind == "job":
                    note = self._fell_back(places.get(a.demand.id), a.sut.id)
                    with self.fence("assign") as at:
                        assigned = jobs.assign_job(a.demand.id, a.sut.id, at, placement=note)
                    if assigned:
                        metrics.handed_over("job", a.sut.id, a.demand.queued_at, at)
                else:  # never hand a person a SUT that has not answered a new connection just now
                    self.leasing.hand_over(a.demand.id, a.sut.id, a.sut.fresh)

    def wake_at(self, when: float) -> None:
        """Run a pass at `when` (clock time), if the timer would not run one sooner."""
        with self._lock:
            heapq.heappush(self._alarms, when)

    def _until_alarm(self) -> float:
        with self._lock:
            return self._alarms[0] - self.clock() if self._alarms else math.inf

    def _alarm_rang(self) -> bool:
        now, rang = self.clock(), False
        with self._lock:
            while self._alarms and self._alarms[0] <= now:
                heapq.heappop(self._alarms)
                rang = True
        return rang

    def _free(self, class_id: int, now: float, keyed: set[int]) -> list:
        return [s for s in control.free_suts(class_id, now, self.tuning.fresh, keyed)
                if not self.busy("probe", s.id)]

    @staticmethod
    def _fell_back(place: Place | None, sut_id: int) -> str | None:
        """The note a job placed `same` carries when its plan's SUT is no longer usable."""
        if place is None or place.fell_back_from is None:
            return None
        home, there = suts.get_sut(place.fell_back_from), suts.get_sut(sut_id)
        return f"placement same fell back: {home.name} is {home.health}; ran on {there.name}"

    # --- the worker pool ------------------------------------------------------

    def busy(self, kind: str, id: int) -> bool:
        with self._lock:
            return (kind, id) in self._inflight

    def submit(self, kind: str, ids: Iterable[int], work: Callable[[int], None]) -> None:
        for id in ids:
            with self._lock:
                if (kind, id) in self._inflight:
                    continue
                self._inflight.add((kind, id))
            self._pool.submit(self._work, kind, id, work)

    def _work(self, kind: str, id: int, work: Callable[[int], None]) -> None:
        opened = db.is_closed()  # connections are per thread; a worker opens its own
        try:
            if opened:
                db.connect()
            work(id)
        except StaleWrite as exc:  # not committed; the next pass does it again
            log.warning("%s %s: %s", kind, id, exc.message)
        except LostLeadership:
            self._lost.set()
        except Exception:
            log.exception("%s %s failed", kind, id)
        finally:
            if opened and not db.is_closed():
                db.close()
            with self._lock:
                self._inflight.discard((kind, id))
            self.wake.set()

    def idle(self) -> bool:
        """No work in flight (tests wait for this between passes)."""
        with self._lock:
            return not self._inflight
