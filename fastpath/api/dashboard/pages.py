"""The dashboard's pages: falcon resources that read through the store's queries and the API's views.

Read-only. Each page is signed in by the login cookie (`page = True`, see
`fastpath.api.middleware`) and needs the `query` capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastpath.api.dashboard import charts
from fastpath.api.dashboard.render import page
from fastpath.api.listing import owner_filter, state_filter
from fastpath.api.queue import QueueCache, Queues
from fastpath.api.views import lease_view, plan_view
from fastpath.core.states import ACTIVE_LEASE, ACTIVE_PLAN, LeaseState, PlanState, SutState, parse_states
from fastpath.store.models import Sut
from fastpath.store.queries import census, control, events, inventory, jobs, leases, plans, suts, users

DAY = 86400.0
QUEUE_ROWS = 200  # rows of a class's queue shown; the rest are counted


@dataclass(frozen=True)
class Tile:
    name: str
    state: str  # free, job, lease, or the SUT's health when not healthy
    holder: str | None
    reason: str | None


def tile_state(health: str, holder_kind: str | None) -> str:
    """What a tile shows: a healthy SUT is free or held (job, lease); any other, its health."""
    if health != SutState.HEALTHY:
        return health
    return holder_kind or "free"


def tiles(class_id: int, names: dict[int, str], *, of: list[Sut] | None = None,
          held: dict | None = None) -> list[Tile]:
    """The tiles of a class's SUTs (or of the SUTs given, with their holders given)."""
    held = inventory.holders(class_id) if held is None else held
    out = []
    for sut in inventory.class_suts(class_id) if of is None else of:
        h = held.get(sut.id)
        holder = f"{h[0]} {h[1]} · {names.get(h[2], '?')}" if h else None
        out.append(Tile(sut.name, tile_state(sut.health, h[0] if h else None), holder,
                        sut.reason if sut.health != SutState.HEALTHY else None))
    return out


def user_names() -> dict[int, str]:
    return {u.id: u.name for u in users.list_users()}


class Page:
    page = True  # signed in by the dashboard's cookie

    def __init__(self, clock: Callable[[], float], queues: QueueCache, resultstore: str | None) -> None:
        self.clock, self.queues, self.resultstore = clock, queues, resultstore


class Overview(Page):
    """Every class at once: a few queries for the whole lab, however many classes it has."""

    def on_get(self, req, resp) -> None:
        now = self.clock()
        names = user_names()
        waiting = census.queued_by_class()
        held = inventory.holders()
        by_class: dict[int, list[Sut]] = {}
        for sut in inventory.all_suts():
            by_class.setdefault(sut.sutclass_id, []).append(sut)
        classes = []
        for cls, u in inventory.classes_in_use(now, now - DAY, now):
            n, oldest = waiting.get(cls.id, (0, None))
            classes.append({"name": cls.name, "enabled": cls.enabled,
                            "tiles": tiles(cls.id, names, of=by_class.get(cls.id, []), held=held),
                            "queue": n, "oldest_wait": now - oldest if oldest is not None else None,
                            "in_use": u.in_use, "total": u.total, "usage_24h": u.window})
        page(req, resp, "overview.html", "Overview", classes=classes, now=now)


class SutClassPage(Page):
    def on_get(self, req, resp, name: str) -> None:
        now = self.clock()
        cls = inventory.get_class(name)
        names = user_names()
        found, _ = self.queues.explained([cls], now)[cls.id]
        owner = {(d.kind, d.id): d for d in control.demand(cls.id)}
        rows = []
        for (kind, id), e in sorted(found.items(), key=lambda kv: kv[1].position):
            d = owner.get((kind, id))
            if d is None:  # served between the two reads
                continue
            rows.append({"position": e.position, "kind": kind, "id": id, "owner": names.get(d.user, "?"),
                         "priority": d.priority, "queued_at": d.queued_at, "reason": e.reason,
                         "eta": e.eta})
        usage = inventory.class_usage(cls, now, now - DAY, now)
        page(req, resp, "sutclass.html", f"Class {cls.name}", cls=cls, tiles=tiles(cls.id, names),
             queue=rows[:QUEUE_ROWS], more=max(0, len(rows) - QUEUE_ROWS), usage=usage, now=now)


class SutPage(Page):
    def on_get(self, req, resp, name: str) -> None:
        now = self.clock()
        sut: Sut = suts.find_sut(name)
        names = user_names()
        history = events.of_record("sut", sut.id, 50)
        errors = [e for e in history if e.new == SutState.UNHEALTHY and e.detail][:5]
        held = inventory.holders(sut.sutclass_id).get(sut.id)
        facts = sut.facts or {}
        hw = ((jobs.last_fingerprint(sut.id) or {}).get("HW")) or {}
        page(req, resp, "sut.html", f"SUT {sut.name}", sut=sut, now=now,
             state=tile_state(sut.health, held[0] if held else None),
             holder=(held[0], held[1], names.get(held[2], "?")) if held else None,
             history=history, errors=errors, usage=inventory.sut_usage(sut.id, 20),
             facts={"kernel": facts.get("release"), "cmdline": facts.get("cmdline"),
                    "own kernel": facts.get("base_release"), "CPU": hw.get("cpu_model"),
                    "CPUs": hw.get("cpu_count"), "memory": _memory(hw.get("memory_kb")),
                    "architecture": hw.get("architecture")})


def _memory(kb: int | None) -> str | None:
    return f"{kb / 1024 / 1024:.1f} GiB" if isinstance(kb, int) else None


class PlansPage(Page):
    """The plans with `plan-list`'s filters: users, all_users, states, all_states."""

    def on_get(self, req, resp) -> None:
        states = state_filter(req, PlanState, ACTIVE_PLAN, parse_states)
        found = plans.list_plans(states, owner_filter(req))
        counts = plans.job_counts([p.id for p in found])
        queues = Queues(self.queues, self.clock())
        views = [plan_view(p, queues, counts.get(p.id)) for p in reversed(found)]
        page(req, resp, "plans.html", "Plans", plans=views, form={
            "users": req.get_param("users") or "", "states": req.get_param("states") or "",
            "all_users": bool(req.get_param("all_users")), "all_states": bool(req.get_param("all_states"))},
            state_words=[s.value for s in PlanState])


class PlanPage(Page):
    def on_get(self, req, resp, id: int) -> None:
        plan = plans.get_plan(id)
        view = plan_view(plan, Queues(self.queues, self.clock()), jobs=plans.plan_jobs(id))
        panels = charts.plan_panels(self.resultstore, id) if self.resultstore and plan.publish else []
        page(req, resp, "plan.html", f"Plan {plan.id}", plan=view,
             charts=[(p, charts.geometry(p)) for p in panels],
             published=bool(self.resultstore and plan.publish))


class LeasesPage(Page):
    """Every user's active leases (queued and acquired), with their expiry."""

    def on_get(self, req, resp) -> None:
        now = self.clock()
        queues = Queues(self.queues, now)
        found = leases.list_leases([s.value for s in ACTIVE_LEASE], None)
        views = [lease_view(lease, queues) | {"expires_in": (lease.expires_at - now)
                                               if lease.expires_at else None} for lease in found]
        page(req, resp, "leases.html", "Leases", leases=views, acquired=LeaseState.ACQUIRED)
