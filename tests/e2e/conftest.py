"""Fixtures for end-to-end tests: a real scheduler over the session's real test SUTs."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.scheduler import Scheduler

FAST = ("probe_interval=5,fresh=3,backoff_base=0.5,backoff_cap=2,ttl=5,renew=1,"
        "job_poll_min=0.3,job_poll_max=1,boot_poll=0.3,unreachable_grace=4")


@pytest.fixture
def fast_controller(monkeypatch):
    """Controller timings for tests: quick re-checks, short leadership."""
    monkeypatch.setenv("FASTPATH_TUNING", FAST)


@pytest.fixture
def scheduler(tmp_path, suts, busyloop, fast_controller):
    """A scheduler (not started) whose `demo` class holds the first two test SUTs."""
    made = []

    def make(boot: str = "none", count: int = 2, **kw) -> Scheduler:
        suts.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot=boot,
                              suts=suts.suts[:count], boot_timeout="20s")
        s = Scheduler(tmp_path, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop(signal.SIGKILL)
