"""What a SUT was found to be during one boot, kept by boot id (fastpath.core.bootchecks)."""

from __future__ import annotations

from fastpath.core import bootchecks

FP = {"HW": {"host_name": "a"}, "SW": {"kernel_name": "6.1"}}


def merged(facts: dict, new: dict) -> dict:
    return {**facts, **new}  # as suts.set_facts records it


def test_nothing_is_known_of_a_sut_never_checked():
    assert bootchecks.fingerprinted(None) == (None, None)
    assert bootchecks.fingerprinted({"boot_id": "b1"}) == (None, None)
    assert not bootchecks.runtime_checked(None, "b1", "podman")


def test_checks_hold_for_their_boot_only():
    facts = merged({"boot_id": "b1"}, bootchecks.with_fingerprint({}, "b1", FP))
    facts = merged(facts, bootchecks.with_runtime(facts, "b1", "podman"))
    assert bootchecks.fingerprinted(facts) == ("b1", FP)
    assert bootchecks.runtime_checked(facts, "b1", "podman")
    assert not bootchecks.runtime_checked(facts, "b1", "docker")  # another runtime: its own check
    assert not bootchecks.runtime_checked(facts, "b2", "podman")  # a new boot: checked again


def test_a_check_under_a_new_boot_drops_what_the_old_boot_knew():
    facts = merged({}, bootchecks.with_fingerprint({}, "b1", FP))
    facts = merged(facts, bootchecks.with_runtime(facts, "b1", "podman"))
    facts = merged(facts, bootchecks.with_runtime(facts, "b2", "docker"))
    assert bootchecks.fingerprinted(facts) == (None, None)  # b1's fingerprint is gone
    assert bootchecks.runtime_checked(facts, "b2", "docker")
    assert not bootchecks.runtime_checked(facts, "b2", "podman")
    again = merged(facts, bootchecks.with_fingerprint(facts, "b2", FP))
    assert bootchecks.fingerprinted(again) == ("b2", FP) and bootchecks.runtime_checked(again, "b2", "docker")
