"""Leases with a deadline, with the real scheduler, the real CLI and real SSH SUTs:
durations and the class maximum, extend, and expiry."""

from __future__ import annotations

import json
import re
from datetime import datetime


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def acquire(s, *args, token=None) -> dict:
    out = s.cli("sched", "lease-acquire", *args, "--wait", "--json", token=token).stdout
    return json.loads(out)["lease"]


def test_duration_default_and_maximum(lab):
    lease = acquire(lab, "lab", "--duration", "30m")
    assert lease["state"] == "acquired" and lease["duration"] == 1800
    # the clock starts at acquisition (seconds, as the API shows them)
    assert abs(epoch(lease["expires_at"]) - epoch(lease["acquired_at"]) - 1800) <= 1
    default = acquire(lab, "lab")
    assert default["duration"] == 3600  # the class's lease_duration

    refused = lab.cli("sched", "lease-acquire", "lab", "--duration", "3h", check=False)
    assert refused.returncode == 2
    assert "3h is longer than the class maximum of 2h" in refused.stderr
    bad = lab.cli("sched", "lease-acquire", "lab", "--duration", "soon", check=False)
    assert bad.returncode == 2 and "expected a duration like" in bad.stderr

    shown = lab.cli("sched", "lease-list", str(lease["id"])).stdout
    assert "Duration:" in shown and "30m" in shown
    assert "Expires:" in shown and "Time left:" in shown
    listing = lab.cli("sched", "lease-list").stdout.splitlines()
    assert listing[0].split()[11:13] == ["EXPIRES", "LEFT"]
    row = next(line for line in listing[1:] if line.split()[0] == str(lease["id"]))
    assert re.search(r"  (29m\d+s|30m)  ", row), row  # the time left


def test_extend_within_the_maximum_owner_or_admin(lab):
    bob = lab.user("bob-extend", "lease,query")
    dave = lab.user("dave-extend", "lease,query")
    lease = acquire(lab, "lab", "--duration", "1h", token=bob)
    first = epoch(lease["expires_at"])
    out = lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "30m", token=bob).stdout
    assert out.startswith(f"Lease {lease['id']} now expires at ")
    doc = json.loads(lab.cli("sched", "lease-list", str(lease["id"]), "--json", token=bob).stdout)
    assert epoch(doc["lease"]["expires_at"]) == first + 1800

    past = lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "1h", token=bob,
                   check=False)
    assert past.returncode == 2
    assert "longer than the class maximum of 2h; it may be extended by at most 30m" in past.stderr
    other = lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "1m", token=dave,
                    check=False)
    assert other.returncode == 3 and "belongs to another user" in other.stderr
    # an admin may go past the class maximum
    done = json.loads(lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "1h",
                              "--json").stdout)["lease"]
    assert epoch(done["expires_at"]) == first + 1800 + 3600

    lab.cli("sched", "lease-release", str(lease["id"]), token=bob)
    ended = lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "1m", token=bob,
                    check=False)
    assert ended.returncode == 5 and "is released; only an acquired lease can be extended" in ended.stderr


def events(s, lease_id: int) -> list[tuple[str | None, str | None]]:
    """The lease's events as the scheduler recorded them (its SQLite database)."""
    import sqlite3

    with sqlite3.connect(s.database.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT old, new FROM event WHERE kind = 'lease' AND ref = ? "
                            "ORDER BY id", (lease_id,)).fetchall()


def test_a_short_lease_expires_and_its_sut_goes_back(lab, wait_until):
    lease = acquire(lab, "quick", "--duration", "3s")
    assert lease["state"] == "acquired"
    wait_until(lambda: json.loads(lab.cli("sched", "lease-list", str(lease["id"]), "--json").stdout)
               ["lease"]["state"] == "expired", timeout=30, what="the lease to expire")
    shown = lab.cli("sched", "lease-list", str(lease["id"])).stdout
    assert re.search(r"^Expired: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", shown, re.M), shown
    assert "Time left" not in shown
    assert events(lab, lease["id"]) == [(None, "queued"), ("queued", "acquired"),
                                        ("acquired", "expiring"), ("acquired", "expired")]
    # an expired lease can be neither extended nor released
    ext = lab.cli("sched", "lease-extend", str(lease["id"]), "--duration", "1m", check=False)
    assert ext.returncode == 5 and "is expired" in ext.stderr
    rel = lab.cli("sched", "lease-release", str(lease["id"]), check=False)
    assert rel.returncode == 5 and "already expired" in rel.stderr
    # its SUT is handed out again
    again = acquire(lab, "quick", "--duration", "1m")
    assert again["sut"]["name"] == lease["sut"]["name"] == "sut-03"  # the class's only SUT


def test_a_deadline_passed_while_the_scheduler_was_down(lab, wait_until):
    """Level-triggered: the first pass after a restart expires what is due."""
    import signal

    lease = acquire(lab, "quick", "--duration", "2s")
    lab.stop(signal.SIGKILL)
    try:
        wait_until(lambda: epoch(lease["expires_at"]) + 1 < __import__("time").time(), timeout=10,
                   what="the deadline to pass")
    finally:
        lab.start(env={"FASTPATH_TUNING": lab.tuning})
    wait_until(lambda: json.loads(lab.cli("sched", "lease-list", str(lease["id"]), "--json").stdout)
               ["lease"]["state"] == "expired", timeout=30, what="the lease to expire after restart")
    assert events(lab, lease["id"])[-1] == ("acquired", "expired")
