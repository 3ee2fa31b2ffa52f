"""The states of the scheduler's records and the transitions between them.

State names are lower-case words; the API and the CLI filters use the same
words. Every change of state is a compare-and-set in `queries` and must be
one of the transitions listed here.
"""

from __future__ import annotations

from enum import StrEnum


class LeaseState(StrEnum):
    QUEUED = "queued"
    ACQUIRED = "acquired"
    RELEASED = "released"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PlanState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobState(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobStep(StrEnum):
    """The recorded step of a job on its SUT (`fastpath.control.steps`), in the order they run."""

    CONNECT = "connect"
    STAGE = "stage"
    BOOT = "boot"
    WAIT_BOOT = "wait_boot"
    SETUP = "setup"
    PREPARE = "prepare"
    RUN = "run"
    COLLECT = "collect"
    CLEANUP = "cleanup"
    DONE = "done"


class SutState(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    RESET = "reset"  # being reset after a lease, or booted back to its own kernel before one
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class Publish(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


TRANSITIONS: dict[type[StrEnum], dict[StrEnum, set[StrEnum]]] = {
    LeaseState: {
        LeaseState.QUEUED: {LeaseState.ACQUIRED, LeaseState.CANCELLED},
        LeaseState.ACQUIRED: {LeaseState.RELEASED, LeaseState.EXPIRED},
    },
    PlanState: {
        PlanState.QUEUED: {
            PlanState.RUNNING,
            PlanState.COMPLETED,
            PlanState.FAILED,
            PlanState.CANCELLED,
        },
        PlanState.RUNNING: {PlanState.COMPLETED, PlanState.FAILED, PlanState.CANCELLED},
    },
    SutState: {
        # the controller moves probed states; the configuration and admins move the others
        SutState.UNKNOWN: {SutState.HEALTHY, SutState.UNHEALTHY, SutState.RESET, SutState.MAINTENANCE,
                           SutState.RETIRED},
        SutState.HEALTHY: {SutState.UNHEALTHY, SutState.UNKNOWN, SutState.RESET, SutState.MAINTENANCE,
                           SutState.RETIRED},
        SutState.UNHEALTHY: {SutState.HEALTHY, SutState.UNKNOWN, SutState.RESET, SutState.MAINTENANCE,
                             SutState.RETIRED},
        SutState.RESET: {SutState.HEALTHY, SutState.UNHEALTHY, SutState.UNKNOWN, SutState.MAINTENANCE,
                         SutState.RETIRED},
        SutState.MAINTENANCE: {SutState.UNKNOWN, SutState.RETIRED},
        SutState.RETIRED: {SutState.UNKNOWN, SutState.MAINTENANCE},
    },
    JobState: {
        JobState.QUEUED: {JobState.ASSIGNED, JobState.CANCELLED},
        JobState.ASSIGNED: {
            JobState.RUNNING,
            JobState.QUEUED,
            JobState.FAILED,
            JobState.COMPLETED,
        },
        JobState.RUNNING: {JobState.COMPLETED, JobState.FAILED, JobState.QUEUED},
    },
}

ACTIVE_LEASE = (LeaseState.QUEUED, LeaseState.ACQUIRED)
ACTIVE_PLAN = (PlanState.QUEUED, PlanState.RUNNING)
ACTIVE_JOB = (JobState.QUEUED, JobState.ASSIGNED, JobState.RUNNING)
HOLDING_JOB = (JobState.ASSIGNED, JobState.RUNNING)
FINAL_JOB = (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)
# health states the controller may change; the others are set by configuration
PROBED = (SutState.UNKNOWN, SutState.HEALTHY, SutState.UNHEALTHY)


def allowed(old: StrEnum, new: StrEnum) -> bool:
    """Whether `old` -> `new` is a transition of the record's state machine."""
    return new in TRANSITIONS[type(old)].get(old, set())


def check(old: str, new: StrEnum) -> None:
    """Refuse a move that is not in the state table (a bug in the caller, never a user error)."""
    if not allowed(type(new)(old), new):
        raise ValueError(f"{type(new).__name__}: {old} -> {new} is not a transition of the state table")


def words(enum: type[StrEnum]) -> list[str]:
    """The state names, as the API and the CLI filters spell them."""
    return [s.value for s in enum]


def parse_states(enum: type[StrEnum], words: list[str]) -> list[StrEnum]:
    """The states named by `words` (already split on commas); ValueError names a bad one."""
    known = {s.value: s for s in enum}
    out = []
    for word in words:
        if word not in known:
            raise ValueError(f"unknown state {word!r}; known: {', '.join(known)}")
        out.append(known[word])
    return out


def plan_state(started: bool, cancel_requested: bool, jobs: dict[str, int]) -> PlanState:
    """A plan's state, derived from its jobs' states (counts by state name).

    With no job active: `cancelled` if a cancel was asked, else `failed` if a
    job failed, else `completed`. While jobs are active: `running` once any
    job has been handed a SUT, else `queued`.
    """
    active = sum(jobs.get(s, 0) for s in ACTIVE_JOB)
    if active == 0:
        if cancel_requested:  # what the user asked for wins over a failure on the way
            return PlanState.CANCELLED
        if jobs.get(JobState.FAILED, 0):
            return PlanState.FAILED
        return PlanState.CANCELLED if jobs.get(JobState.CANCELLED, 0) else PlanState.COMPLETED
    return PlanState.RUNNING if started else PlanState.QUEUED
