"""Splitting a plan into child jobs, and a job into benchmark runs. Pure.

A session is one boot of a SUT into a swprofile. Job k of swprofile p runs
every benchmark whose `sessions` >= k, each with its warmups (discarded)
then its repeats (recorded). Jobs are queued session by session, so that
early results cover every swprofile, alternating the order of the
swprofiles (s1: A B, s2: B A, s3: A B, ...) so that a drift over time (a
warming room, a filling disk) falls on each swprofile alike (DESIGN §13).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    session: int  # 1-based
    swprofile: int  # index into the plan's swprofiles


@dataclass(frozen=True)
class Run:
    benchmark: int  # index into the plan's benchmarks
    phase: str  # "warmup" or "repeat"
    index: int  # 0-based within its phase


def split(plan: dict) -> list[JobSpec]:
    sessions = max(b["sessions"] for b in plan["benchmarks"])
    order = list(range(len(plan["swprofiles"])))
    return [JobSpec(k, p) for k in range(1, sessions + 1)
            for p in (order if k % 2 else order[::-1])]


def runs(plan: dict, spec: JobSpec) -> list[Run]:
    out = []
    for i, b in enumerate(plan["benchmarks"]):
        if b["sessions"] >= spec.session:
            out += [Run(i, "warmup", n) for n in range(b["warmups"])]
            out += [Run(i, "repeat", n) for n in range(b["repeats"])]
    return out
