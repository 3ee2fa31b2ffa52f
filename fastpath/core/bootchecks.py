"""What a SUT was found to be during one boot, so that a job checks it once per boot id.

The fingerprint (hardware and software) and the container runtime's check
(`<runtime> info`) cost more than the rest of a trivial job, and neither
changes while the SUT stays up. Both are kept in the SUT's facts under
`boot_checks`, keyed by the boot id they were taken under:

    {"boot_id": "...", "fingerprint": {"HW": ..., "SW": ...}, "runtimes": ["podman"]}

A new boot id (a reboot, a kexec, a power cycle, a reset) makes them stale,
and the next job takes them again. They are written with the step that
learned them, so a crash at worst repeats a check once.
"""

from __future__ import annotations

KEY = "boot_checks"


def _checks(facts: dict | None, boot_id: str | None = None) -> dict:
    checks = (facts or {}).get(KEY) or {}
    if boot_id is not None and checks.get("boot_id") != boot_id:
        return {}
    return checks


def fingerprinted(facts: dict | None) -> tuple[str | None, dict | None]:
    """(boot id, fingerprint) of the last fingerprint taken, or (None, None)."""
    checks = _checks(facts)
    if not checks.get("fingerprint"):
        return None, None
    return checks.get("boot_id"), checks["fingerprint"]


def runtime_checked(facts: dict | None, boot_id: str, runtime: str) -> bool:
    """The runtime answered `info` during this boot."""
    return runtime in _checks(facts, boot_id).get("runtimes", [])


def with_fingerprint(facts: dict | None, boot_id: str, fingerprint: dict) -> dict:
    """The `boot_checks` fact after a fingerprint taken under `boot_id`."""
    kept = _checks(facts, boot_id)
    return {KEY: {"runtimes": [], **kept, "boot_id": boot_id, "fingerprint": fingerprint}}


def with_runtime(facts: dict | None, boot_id: str, runtime: str) -> dict:
    """The `boot_checks` fact after `runtime` answered under `boot_id`."""
    kept = _checks(facts, boot_id)
    runtimes = sorted({*kept.get("runtimes", []), runtime})
    return {KEY: {**kept, "boot_id": boot_id, "runtimes": runtimes}}
