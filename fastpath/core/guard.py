"""The host-safety guard: never install, reconfigure or reboot the scheduler's own machine.

A SUT on a loopback address, or a lab whose scheduler runs on one of its
SUTs, is the very machine the scheduler runs on. The job runner asks this
guard before it acts on a SUT, with what the SUT and this host say of
themselves.
"""

from __future__ import annotations


def is_own_host(seen: dict, host: dict) -> bool:
    """Whether the SUT that reported `seen` (machine id, boot id) is the host described by `host`."""
    same_machine = bool(seen.get("machine_id")) and seen.get("machine_id") == host.get("machine_id")
    return same_machine or (bool(seen.get("boot_id")) and seen.get("boot_id") == host.get("boot_id"))


def refusal(sut: str, *, own_host: bool, boot: str, boots: bool, sysctl: bool,
            bootscript: bool) -> str | None:
    """Why a job must not run on SUT `sut` as asked, or None when it may."""
    if not own_host:
        return None
    touches = []
    if boots and boot in ("kexec", "reboot"):
        touches.append(f"install and {boot} a kernel")
    if sysctl:
        touches.append("apply sysctl settings")
    if bootscript:
        touches.append("run a bootscript as root")
    if not touches:
        return None
    return (f"refusing to {' and '.join(touches)} on SUT {sut}: it is the scheduler's own host "
            "(same machine id); use boot: power_cycle or boot: none for such SUTs")
