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


def back_on_own_kernel(suts, timeout: float = 60.0) -> None:
    """Power-cycle the SUTs that a job of an earlier test left on its kernel back to their own."""
    import time

    left = [sut for sut in suts if "fastpath.session=" in sut.cmdline]
    for sut in left:
        sut.power_cycle(delay=0)
    deadline = time.monotonic() + timeout
    while not all(sut.is_running() for sut in left):
        if time.monotonic() > deadline:
            raise AssertionError(f"testbed SUTs not back: {[s.name for s in left]}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def lease_lab(tmp_path_factory, testbed):
    """One scheduler for the lease tests, started once: class `lab` (SUTs 1-2, leases of 1h,
    at most 2h), class `quick` (SUT 3, leases of 20s, at most 1m), both `boot: none`, and class
    `booting` (SUT 4, the testbed's simulated power cycle, reset by it after each lease). Its
    CLI runs with a HOME of its own, so no key of this machine is ever picked up."""
    import yaml

    work = tmp_path_factory.mktemp("lease-lab")
    lab = testbed.sutclasses("lab", boot="none", suts=testbed.suts[:2],
                             lease_duration="1h", lease_max_duration="2h")
    quick = testbed.sutclasses("quick", boot="none", suts=testbed.suts[2:3],
                               lease_duration="20s", lease_max_duration="1m")
    booting = testbed.sutclasses("booting", boot="power_cycle", suts=testbed.suts[3:4],
                                 boot_timeout="20s")
    (work / "sutclasses.yaml").write_text(yaml.safe_dump(lab + quick + booting, sort_keys=False))
    back_on_own_kernel(testbed.suts)
    s = Scheduler(work)
    s.tuning = FAST  # pass it again on a restart: s.start(env={"FASTPATH_TUNING": s.tuning})
    s.start(env={"FASTPATH_TUNING": FAST})
    s.login()
    yield s
    s.stop(signal.SIGKILL)


@pytest.fixture
def lab(lease_lab):
    """The session's lease scheduler, with every lease released after the test."""
    import json

    yield lease_lab
    doc = json.loads(lease_lab.cli("sched", "lease-list", "--all-users", "--json").stdout)
    for lease in doc["leases"]:
        lease_lab.cli("sched", "lease-release", str(lease["id"]), check=False)


@pytest.fixture(scope="module")
def browser():
    """One real browser for the run's browser tests: Debian's chromium, driven by Playwright
    (never its own download). Module-scoped, and only the dashboard's module uses it: Playwright's
    sync API holds an asyncio loop running in this thread while it is open, which would make
    every later `asyncio.run` in the session fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium")
        yield chromium
        chromium.close()
