"""The controller's own metrics: its passes, its lead, hand-overs and job step durations.

Observed where they happen (DESIGN §13), into the process's registry
(`fastpath.metrics`): served by `sched controller --metrics-port`, and inside
one `sched run` by the API's /metrics too, through the shared directory.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Gauge, Histogram

from fastpath.core.metrics import handover_latency, step_durations
from fastpath.store.queries import census

PASS_SECONDS = Histogram(
    "fastpath_controller_pass_duration_seconds", "Time of one reconcile pass of the active controller",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
IS_LEADER = Gauge("fastpath_controller_is_leader", "1 while this controller is the active one",
                  multiprocess_mode="livemax")
HANDOVER_SECONDS = Histogram(
    "fastpath_handover_latency_seconds",
    "From a SUT's previous holder letting go to the next waiting job or lease holding it",
    ["kind"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
STEP_SECONDS = Histogram(
    "fastpath_job_step_duration_seconds", "Time of each ended step of a job on its SUT",
    ["step"], buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400))


def handed_over(kind: str, sut_id: int, queued_at: float, at: float) -> None:
    """A job or lease queued at `queued_at` holds the SUT since `at`: time the hand-over."""
    latency = handover_latency(census.freed_at(sut_id), queued_at, at)
    if latency is not None:
        HANDOVER_SECONDS.labels(kind).observe(latency)


def steps_ended(steps: Sequence[Sequence], end: float | None = None) -> None:
    """Observe the ended steps of `steps` (a job's [step, began at] list; see step_durations)."""
    for step, seconds in step_durations(steps, end):
        STEP_SECONDS.labels(step).observe(seconds)
