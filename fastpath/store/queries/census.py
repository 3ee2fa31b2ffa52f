"""The lab counted at one moment, for the metrics: SUTs, queues, leases, jobs and plans.

Read at scrape time, so every API process reports the same numbers whatever
the deployment. Each is one grouped query (the (sutclass, state) indexes of
jobs and leases keep them cheap with a long history).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import peewee as pw

from fastpath.core.metrics import sut_state
from fastpath.core.states import JobState, LeaseState
from fastpath.store.models import Job, Lease, Plan, Sut, SutClass, Usage
from fastpath.store.queries.inventory import holders


def class_names() -> dict[int, str]:
    """id -> name of every SUT class, enabled or not (a disabled class's SUTs are retired)."""
    rows: Any = SutClass.select(SutClass.id, SutClass.name).order_by(SutClass.name).tuples()
    return {id: name for id, name in rows}


def sut_states() -> Counter:
    """(class id, state) -> SUTs, with the states of `fastpath.core.metrics.SUT_STATES`."""
    held = holders()
    rows: Any = Sut.select(Sut.id, Sut.sutclass, Sut.health).tuples()
    return Counter((cls, sut_state(health, held[id][0] if id in held else None))
                   for id, cls, health in rows)


def leases_by_class_and_state() -> Counter:
    """(class id, state) -> leases."""
    return _by_class_and_state(Lease)


def jobs_by_class_and_state() -> Counter:
    """(class id, state) -> jobs."""
    return _by_class_and_state(Job)


def _by_class_and_state(model: type[Job] | type[Lease]) -> Counter:
    rows: Any = (model.select(model.sutclass, model.state, pw.fn.COUNT(model.id))
                 .group_by(model.sutclass, model.state).tuples())
    return Counter({(cls, state): n for cls, state, n in rows})


def plans_by_state() -> Counter:
    rows: Any = Plan.select(Plan.state, pw.fn.COUNT(Plan.id)).group_by(Plan.state).tuples()
    return Counter({state: n for state, n in rows})


def queued_by_class() -> dict[int, tuple[int, float]]:
    """class id -> (queued jobs and leases, the oldest one's queued_at), for classes with a queue."""
    out: dict[int, tuple[int, float]] = {}
    for model, queued in ((Lease, LeaseState.QUEUED), (Job, JobState.QUEUED)):
        rows: Any = (model.select(model.sutclass, pw.fn.COUNT(model.id), pw.fn.MIN(model.queued_at))
                     .where(model.state == queued).group_by(model.sutclass).tuples())
        for cls, n, oldest in rows:
            m, o = out.get(cls, (0, oldest))
            out[cls] = (m + n, min(o, oldest))
    return out


def freed_at(sut_id: int) -> float | None:
    """When the SUT's last holder let it go (None if it was never held and let go)."""
    return (Usage.select(pw.fn.MAX(Usage.ended_at))
            .where((Usage.sut == sut_id) & Usage.ended_at.is_null(False)).scalar())
