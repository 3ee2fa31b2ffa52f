"""Placement and hardware warnings of a comparison, as tables."""

from __future__ import annotations

import pytest

from fastpath.results.comparability import comparable_fingerprint, warnings

SAME = {"demo-01": "hw", "demo-02": "hw"}


@pytest.mark.parametrize("placement, expect", [
    ({"a": {"demo-01": 3}, "b": {"demo-02": 3}}, ["unbalanced"]),  # the confounded plans
    ({"a": {"demo-01": 2, "demo-02": 1}, "b": {"demo-01": 1, "demo-02": 2}}, []),  # as good as 3 allows
    ({"a": {"demo-01": 2, "demo-02": 2}, "b": {"demo-01": 2, "demo-02": 2}}, []),
    ({"a": {"demo-01": 4}, "b": {"demo-01": 3, "demo-02": 1}}, []),  # one session off
    ({"a": {"demo-01": 4}, "b": {"demo-01": 2, "demo-02": 2}}, ["unbalanced"]),
    ({"a": {"demo-01": 3}, "b": {"demo-01": 3}}, []),  # one SUT
    ({"a": {"demo-01": 3}}, []),  # nothing compared
])
def test_placement(placement, expect):
    got = warnings(placement, SAME)
    assert [w for w in expect if not any(w in g for g in got)] == [] and len(got) == len(expect), got


def test_hardware_differences_ignore_host_specific_fields():
    one = {"HW": {"host_name": "demo-01", "cpu_model": "Epyc", "serial_number": "A1",
                  "nics": [{"mac_address": "aa:bb", "driver": "virtio"}]}, "SW": {"kernel_name": "6.1"}}
    two = {"HW": {"host_name": "demo-02", "cpu_model": "Epyc", "serial_number": "B2",
                  "nics": [{"mac_address": "cc:dd", "driver": "virtio"}]}, "SW": {"kernel_name": "6.2"}}
    other = {"HW": {"host_name": "demo-03", "cpu_model": "Xeon"}}
    assert comparable_fingerprint(one) == comparable_fingerprint(two)
    assert comparable_fingerprint(one) != comparable_fingerprint(other)
    fps = {"demo-01": comparable_fingerprint(one), "demo-03": comparable_fingerprint(other)}
    got = warnings({"a": {"demo-01": 2, "demo-03": 2}, "b": {"demo-01": 2, "demo-03": 2}}, fps)
    assert got == ["Warning: the swprofiles ran on SUTs of different hardware (demo-01 | demo-03)."]


def test_memory_counts_in_whole_gib_as_the_kernel_reports_a_few_mb_more_or_less_per_boot():
    # seen on one QEMU SUT over three boots of two kernels
    boots = [{"HW": {"cpu_model": "QEMU", "memory_kb": kb}} for kb in (983496, 983492, 983480)]
    assert len({comparable_fingerprint(b) for b in boots}) == 1
    bigger = {"HW": {"cpu_model": "QEMU", "memory_kb": 2 * 983496}}
    assert comparable_fingerprint(bigger) != comparable_fingerprint(boots[0])
