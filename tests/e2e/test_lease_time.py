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
    assert listing[0].split()[8:10] == ["EXPIRES", "LEFT"]
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
