"""Shared fixtures: the scheduler's database on each real backend, the API, a clock."""

from __future__ import annotations

import os
import time

import pytest

from tests.databases import KINDS, scratch_database


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def _databases(tmp_path_factory):
    """One scratch database per backend for the whole session, created on first use."""
    opened: dict[str, str] = {}
    stack = []

    def get(kind: str) -> str:
        if kind not in opened:
            cm = scratch_database(kind, str(tmp_path_factory.mktemp("db")))
            opened[kind] = cm.__enter__()
            stack.append(cm)
        return opened[kind]

    yield get
    from fastpath.store.db import db

    if db.obj is not None and not db.is_closed():
        db.close()
    if db.obj is not None and hasattr(db.obj, "close_all"):
        db.obj.close_all()
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def bind_clean(url: str):
    """Bind the models to `url`, with the schema created and every table empty."""
    from fastpath.store import db as dbmod
    from fastpath.store import models

    if dbmod.db.obj is not None:
        if not dbmod.db.is_closed():
            dbmod.db.close()
        if hasattr(dbmod.db.obj, "close_all"):
            dbmod.db.obj.close_all()
    database = dbmod.bind(url)
    with dbmod.db.connection_context():
        with dbmod.db.atomic():
            for model in reversed(models.ALL):
                if model is not models.SchemaVersion:
                    model.delete().execute()
            models.Change.insert(id=1, counter=0).execute()
    return database


@pytest.fixture(params=KINDS)
def database(request, _databases):
    """The scheduler's models bound to an empty database, once per backend."""
    from fastpath.store.db import db

    url = _databases(request.param)
    bind_clean(url)
    db.connect(reuse_if_open=True)
    yield url
    if not db.is_closed():
        db.close()


@pytest.fixture
def sqlite_database(_databases):
    """Like `database`, on SQLite only (for tests that are not about the backend)."""
    from fastpath.store.db import db

    url = _databases("sqlite")
    bind_clean(url)
    db.connect(reuse_if_open=True)
    yield url
    if not db.is_closed():
        db.close()


@pytest.fixture
def wait_until():
    """Poll `predicate` until it holds or `timeout` passes (never a fixed sleep)."""

    def wait(predicate, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    return wait


@pytest.fixture(scope="session")
def testbed(tmp_path_factory):
    """Four real OpenSSH test SUTs with simulated boots, started once per session."""
    from fastpath.testbed import Testbed

    # FASTPATH_TEST_NET lets two test runs share this machine, each on loopback addresses of its own
    net = os.environ.get("FASTPATH_TEST_NET", "127.0.6")
    bed = Testbed(tmp_path_factory.mktemp("testbed"), 4, prefix="sut", first_address=f"{net}.1",
                  first_port=2601, boot_delay=0.5)
    bed.start()
    try:
        yield bed
    finally:
        bed.stop()


@pytest.fixture
def suts(testbed):
    """The session's test SUTs, each up, on its own kernel, booting normally."""
    for sut in testbed.suts:
        sut.fail_boots(False)
        if sut.osrelease != sut._read("orig_osrelease") or not sut.is_running():
            sut.stop()
            sut._boot_values(kernel="", cmdline="", release="")
            sut.start()
    return testbed


@pytest.fixture(scope="session")
def busyloop():
    """The busyloop benchmark image, built once."""
    from fastpath.benchmarks.images import build_busyloop

    return build_busyloop()
