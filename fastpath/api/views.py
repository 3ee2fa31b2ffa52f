"""The JSON shapes of records. Whitelists: a SUT's key file never leaves the server."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastpath.api.queue import Queues
from fastpath.core import sshkeys
from fastpath.core.explain import UNKNOWN, Explanation
from fastpath.core.states import ACTIVE_PLAN, HOLDING_JOB, JobState, LeaseState, Publish, SutState
from fastpath.store.models import Job, Lease, Plan, Sut, SutClass, User
from fastpath.store.queries import control, inventory, plans

PUBLIC_CLASS_PARAMS = ("boot", "boot_timeout", "container_runtime")


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def user_view(user: User) -> dict:
    return {"id": user.id, "name": user.name, "capabilities": user.capabilities,
            "created_at": iso(user.created_at), "disabled": user.disabled}


def sut_view(sut: Sut, holder: tuple | None = None) -> dict:
    out = {"name": sut.name, "host": sut.host, "port": sut.port, "user": sut.user,
           "health": sut.health, "reason": sut.reason, "last_ok_at": iso(sut.last_ok_at)}
    if holder is not None:
        kind, ref, _ = holder
        out["held_by"] = {"kind": kind, "id": ref}
    return out


def sut_detail_view(sut: Sut, holder: tuple | None, user_names: dict[int, str]) -> dict:
    """A SUT as `sut-list` shows it: health, holder, running kernel, last error, drain."""
    out = sut_view(sut, holder)
    if holder is not None:
        out["held_by"]["user"] = user_names.get(holder[2])
    out.update({
        "sutclass": sut.sutclass.name, "kernel": (sut.facts or {}).get("release"),
        "last_error": sut.reason if sut.health != SutState.HEALTHY else None,
        "maintenance": {"declared": sut.declared_maintenance,
                        "drained": sut.drained_at is not None, "drained_at": iso(sut.drained_at),
                        "drained_by": sut.drained_by, "reason": sut.drain_reason},
    })
    return out


def access_view(sut: Sut) -> dict:
    """How a person reaches a leased SUT: with their own key, never ours; and the host key
    to expect (a public key: `lease-ssh` checks the SUT against it)."""
    return {"name": sut.name, "host": sut.host, "port": sut.port, "user": sut.user,
            "host_key": sut.params.get("host_key") or sut.host_key}


def sutclass_view(cls: SutClass, usage: inventory.ClassUsage, *, detail: bool = False,
                  window: tuple[float | None, float | None] = (None, None)) -> dict:
    out: dict[str, Any] = {
        "id": cls.id, "name": cls.name, "enabled": cls.enabled, "created_at": iso(cls.created_at),
        "params": {k: cls.params.get(k) for k in PUBLIC_CLASS_PARAMS},
        "usage": {"in_use": usage.in_use, "total": usage.total},
    }
    if usage.window is not None:
        out["usage"]["window"] = {"from": iso(window[0]), "to": iso(window[1]),
                                  "share": round(usage.window, 6)}
    if detail:
        held = inventory.holders(cls.id)
        out["suts"] = [sut_view(s, held.get(s.id)) for s in inventory.class_suts(cls.id)]
        demand = control.demand(cls.id)
        out["queue"] = {"jobs": sum(d.kind == "job" for d in demand),
                        "leases": sum(d.kind == "lease" for d in demand)}
    return out


def explanation_view(e: Explanation) -> dict:
    """Why a queued record waits: its place in its class's queue, the reason, the estimate."""
    return {"position": e.position, "reason": e.reason,
            "eta": iso(e.eta) if e.eta is not None else UNKNOWN}


def lease_view(lease: Lease, queues: Queues) -> dict:
    out = {
        "id": lease.id, "user": lease.user.name, "sutclass": lease.sutclass.name,
        "state": lease.state, "priority": lease.priority,
        "queued_at": iso(lease.queued_at), "acquired_at": iso(lease.acquired_at),
        "ended_at": iso(lease.ended_at), "sut": None,
        "duration": lease.duration, "expires_at": iso(lease.expires_at),
        "ssh_key_fingerprint": sshkeys.fingerprint(lease.ssh_key) if lease.ssh_key else None,
        "ssh_key_note": lease.access_note,
        "kernel": ({"release": lease.kernel_release, "cmdline": lease.kernel_cmdline}
                   if lease.kernel_release is not None else None),
    }
    if lease.sut_id is not None and lease.sut is not None:
        out["sut"] = access_view(lease.sut)  # joined by the lease queries
    if lease.state == LeaseState.QUEUED:
        e = queues.lease(lease)
        # None: the controller took it between the two reads
        out.update(explanation_view(e) if e else {"position": None, "reason": None, "eta": UNKNOWN})
    return out


def plan_view(plan: Plan, queues: Queues, counts: Counter | None = None, *,
              jobs: list[Job] | None = None) -> dict:
    if counts is None:
        counts = plans.job_counts([plan.id]).get(plan.id, Counter())
    # "done" only once nothing more can come: jobs still to run will have results to publish
    if not plan.publish:
        publishing: str | None = Publish.SKIPPED
    elif counts.get("unpublished") or plan.state in ACTIVE_PLAN:
        publishing = Publish.PENDING
    elif counts.get(JobState.COMPLETED):
        publishing = Publish.DONE
    else:
        publishing = None
    out: dict[str, Any] = {
        "id": plan.id, "name": plan.name, "user": plan.user.name, "sutclass": plan.sutclass.name,
        "priority": plan.priority, "state": plan.state, "publish": plan.publish,
        "publishing": publishing, "cancel_requested": plan.cancel_requested,
        "progress": {
            "completed": counts.get(JobState.COMPLETED, 0), "total": plan.total_jobs,
            "failed": counts.get(JobState.FAILED, 0), "cancelled": counts.get(JobState.CANCELLED, 0),
            "queued": counts.get(JobState.QUEUED, 0),
            "running": sum(counts.get(s, 0) for s in HOLDING_JOB),
            "results": counts.get("results", 0), "errors": counts.get("errors", 0),
        },
        "queued_at": iso(plan.queued_at), "started_at": iso(plan.started_at),
        "completed_at": iso(plan.completed_at),
    }
    if plan.state in ACTIVE_PLAN and counts.get(JobState.QUEUED):
        first = queues.plan(plan)
        if first is not None:
            out["queue"] = {"job": first[0], **explanation_view(first[1])}
    if jobs is not None:
        names = [p["name"] for p in plan.document["swprofiles"]]
        out["jobs"] = [job_view(j, names) for j in jobs]
        last = max((j for j in jobs if j.last_error), default=None,
                   key=lambda j: (j.finished_at or j.assigned_at or 0, j.id))
        out["last_error"] = {"job": last.id, "error": last.last_error} if last else None
    return out


def steps_view(job: Job) -> list[dict]:
    """Each recorded step of the job's last attempt and how long it took (None: still going)."""
    steps = (job.progress or {}).get("steps") or []
    out = []
    for i, (step, began) in enumerate(steps):
        end = steps[i + 1][1] if i + 1 < len(steps) else job.finished_at
        out.append({"step": step, "started_at": iso(began),
                    "seconds": round(end - began, 3) if end is not None else None})
    return out


def job_view(job: Job, swprofiles: list[str]) -> dict:
    return {"plan": job.plan_id, "steps": steps_view(job),
        "id": job.id, "swprofile": swprofiles[job.swprofile], "session": job.session,
        "state": job.state, "priority": job.priority, "sut": job.sut.name if job.sut else None,
        "attempts": job.attempts, "step": job.step if job.state in HOLDING_JOB else None,
        "results": job.results, "errors": job.errors, "last_error": job.last_error,
        "publish": job.publish, "session_id": job.session_id,
        "queued_at": iso(job.queued_at), "assigned_at": iso(job.assigned_at),
        "finished_at": iso(job.finished_at),
        "placement": (job.progress or {}).get("placement"),
    }
