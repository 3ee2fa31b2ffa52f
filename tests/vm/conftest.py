"""Fixtures for the real-kernel tests: one QEMU guest for the session, and a scheduler for it."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.scheduler import Scheduler

# The guest under TCG takes tens of seconds to boot: poll it every 2 s, not every 0.3 s,
# since each SSH attempt into a booting guest costs it CPU time.
TUNING = ("probe_interval=10,fresh=3,backoff_base=2,backoff_cap=4,ttl=5,renew=1,"
          "job_poll_min=0.5,job_poll_max=2,boot_poll=2,unreachable_grace=30")
# Measured here on an idle machine: SSH ~35 s after QEMU starts, a kexec back over SSH in
# ~50 s; on a machine loaded by other test runs, both took over 2 minutes. A boot that works
# costs no more for a long timeout, so the class waits long; only a kernel that never comes
# up waits for it all, and that test gives its class a short one (FAILING_BOOT_TIMEOUT).
BOOT_TIMEOUT = os.environ.get("FASTPATH_TESTVM_BOOT_TIMEOUT", "240s")
FAILING_BOOT_TIMEOUT = "60s"


@pytest.fixture(scope="session")
def vm(tmp_path_factory):
    """The real-kernel SUT: a Debian guest under QEMU, built (or taken from the cache) and
    started once per session. A missing qemu or debootstrap fails here, never skips."""
    from fastpath.testbed import vm as vmmod

    t0 = time.monotonic()
    image = vmmod.build(log=print)
    built = time.monotonic() - t0
    host = f"{os.environ['FASTPATH_TEST_NET']}.50" if os.environ.get("FASTPATH_TEST_NET") else "127.0.0.1"
    guest = vmmod.VirtualSut(tmp_path_factory.mktemp("vm"), image, host=host)
    guest.start()
    try:
        guest.wait_ssh(timeout=240)
        print(f"test VM: image ready in {built:.0f}s, SSH up {time.monotonic() - t0 - built:.0f}s "
              "after start")
        yield guest
    finally:
        guest.stop()


@pytest.fixture
def on_own_kernel(vm):
    """The guest is up on its own kernel (a test that failed may have left it elsewhere)."""
    if vm.ssh("cat /proc/sys/kernel/osrelease").strip() != vm.image.own or \
            "fastpath.session=" in vm.ssh("cat /proc/cmdline"):
        vm.power_cycle()
        vm.wait_ssh(timeout=240)
    return vm


@pytest.fixture
def vm_scheduler(tmp_path, on_own_kernel, monkeypatch):
    """A scheduler (not started) whose `vm` class holds the guest, with `boot: kexec`."""
    monkeypatch.setenv("FASTPATH_TUNING", TUNING)
    made = []

    def make(boot_timeout: str = BOOT_TIMEOUT, **kw) -> Scheduler:
        on_own_kernel.write_sutclasses(tmp_path / "sutclasses.yaml", boot_timeout=boot_timeout)
        s = Scheduler(tmp_path, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop(signal.SIGKILL)
