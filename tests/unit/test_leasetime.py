"""Tables for a lease's duration, the class maximum, extends and the expiry warning."""

from __future__ import annotations

import pytest

from fastpath.core import leasetime
from fastpath.errors import Invalid

H = 3600.0
CLASS = {"lease_duration": 4 * H, "lease_max_duration": 24 * H}


@pytest.mark.parametrize(("asked", "params", "seconds"), [
    (None, CLASS, 4 * H),
    (None, {}, 4 * H),  # a class stored before the params existed: the defaults
    (None, {"lease_duration": 2 * H, "lease_max_duration": H}, H),  # never past the maximum
    ("30m", CLASS, 1800.0),
    ("2h", CLASS, 2 * H),
    ("1d", CLASS, 24 * H),  # exactly the maximum is allowed
    ("1h30m", CLASS, 5400.0),
    (90, CLASS, 90.0),
    ("45s", {"lease_max_duration": 60.0}, 45.0),
])
def test_durations(asked, params, seconds):
    assert leasetime.duration(asked, params) == seconds


@pytest.mark.parametrize(("asked", "params", "message"), [
    ("2d", CLASS, "longer than the class maximum of 1d"),
    ("25h", CLASS, "longer than the class maximum of 1d"),
    ("3h", {"lease_max_duration": 2 * H}, "class maximum of 2h"),
    ("2 weeks", CLASS, "expected a duration like 90s, 30m or 1h"),
    ("0s", CLASS, "expected a positive duration"),
    (-5, CLASS, "expected a duration"),
    (True, CLASS, "expected a duration"),
    ("", CLASS, "expected a duration"),
])
def test_refused_durations(asked, params, message):
    with pytest.raises(Invalid, match=message):
        leasetime.duration(asked, params)


T0 = 1_780_000_000.0


@pytest.mark.parametrize(("expires", "more", "admin", "new"), [
    (T0 + 4 * H, "2h", False, T0 + 6 * H),
    (T0 + 4 * H, "20h", False, T0 + 24 * H),  # up to the maximum counted from acquisition
    (T0 + 23 * H, "1h", False, T0 + 24 * H),
    (T0 + 23 * H, "5h", True, T0 + 28 * H),  # an admin may exceed it
    (T0 + 24 * H, "1d", True, T0 + 48 * H),
])
def test_extend(expires, more, admin, new):
    assert leasetime.extended(T0, expires, more, CLASS, admin=admin) == new


@pytest.mark.parametrize(("expires", "more", "message"), [
    (T0 + 4 * H, "21h", "longer than the class maximum of 1d; it may be extended by at most 20h"),
    (T0 + 24 * H, "1m", "at most 0s"),
    (T0 + 4 * H, "soon", "expected a duration"),
    (T0 + 4 * H, "0m", "positive"),
])
def test_refused_extends(expires, more, message):
    with pytest.raises(Invalid, match=message):
        leasetime.extended(T0, expires, more, CLASS, admin=False)


@pytest.mark.parametrize(("duration", "before"), [
    (4 * H, 900.0),  # 15 minutes before
    (150 * 60.0, 900.0),  # 10 % is exactly 15 minutes
    (H, 360.0),  # 10 % is shorter
    (60.0, 6.0),
])
def test_warning_comes_at_15_minutes_or_10_percent(duration, before):
    assert leasetime.warn_at(T0, T0 + duration) == T0 + duration - before


def test_time_left():
    assert leasetime.time_left(T0 + 60, T0) == 60
    assert leasetime.time_left(T0 - 5, T0) == 0
    assert leasetime.time_left(None, T0) is None
