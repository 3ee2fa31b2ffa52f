"""A clean SUT for each lease, with the real scheduler and a real sshd SUT whose boots are
simulated (testbed): booted back to its own kernel before a lease, reset after one."""

from __future__ import annotations

import json
import sqlite3
import subprocess


def sut_events(s, name: str) -> list[tuple[str, str]]:
    with sqlite3.connect(s.database.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT e.old, e.new FROM event e JOIN sut ON e.ref = sut.id "
                            "WHERE e.kind = 'sut' AND sut.name = ? ORDER BY e.id", (name,)).fetchall()


def seen_release(s, name: str) -> str | None:
    with sqlite3.connect(s.database.removeprefix("sqlite:///")) as conn:
        (facts,) = conn.execute("SELECT facts FROM sut WHERE name = ?", (name,)).fetchone()
    return json.loads(facts or "{}").get("release")


def health(s, name: str) -> tuple[str, str | None]:
    suts = s.client(s.admin_token()).get("/sutclasses/booting")["sutclass"]["suts"]
    found = {x["name"]: (x["health"], x["reason"]) for x in suts}
    return found[name]


def test_booted_back_before_the_lease_and_reset_after(lab, testbed, wait_until):
    sut = testbed.sut("sut-04")
    own = sut._read("orig_osrelease")
    wait_until(lambda: health(lab, sut.name)[0] == "healthy", timeout=60, what="healthy at start")
    # a job left its kernel booted (as the simulated power cycle of a job's boot does)
    values = {"name": sut.name, "kernel": "/stand-in/Image", "release": "6.19.0-demo-candidate",
              "cmdline": "BOOT_IMAGE=/x root=/dev/testbed fastpath.session=job-7"}
    subprocess.run([a.format(**values) for a in testbed.power_cycle_command()], check=True)
    wait_until(sut.is_running, timeout=30, what="the job's kernel up")
    assert sut.osrelease == "6.19.0-demo-candidate"
    # once the scheduler has seen it there (a probe within the last seconds is trusted)
    wait_until(lambda: seen_release(lab, sut.name) == "6.19.0-demo-candidate", timeout=60,
               what="the job's kernel seen")
    before = len(sut_events(lab, sut.name))

    lease = json.loads(lab.cli("sched", "lease-acquire", "booting", "--wait", "--json",
                               timeout=120).stdout)["lease"]
    assert lease["state"] == "acquired" and lease["sut"]["name"] == sut.name
    assert lease["kernel"]["release"] == own and "fastpath.session" not in lease["kernel"]["cmdline"]
    assert sut.osrelease == own
    assert ("healthy", "reset") in sut_events(lab, sut.name)[before:]
    assert sut_events(lab, sut.name)[-1] == ("reset", "healthy")
    shown = lab.cli("sched", "lease-list", str(lease["id"])).stdout
    assert "Kernel:" in shown and own in shown

    boot_id = sut.boot_id
    lab.cli("sched", "lease-release", str(lease["id"]))
    wait_until(lambda: health(lab, sut.name)[0] == "reset", timeout=10, what="the reset")
    assert "reset (power_cycle) after lease" in health(lab, sut.name)[1]
    # a lease waiting meanwhile stays queued, and says why
    waiting = json.loads(lab.cli("sched", "lease-acquire", "booting", "--json").stdout)["lease"]
    if waiting["state"] == "queued":  # unless the reset was over already
        assert f"{sut.name} being reset since" in waiting["reason"]
        assert f"(reset (power_cycle) after lease {lease['id']})" in waiting["reason"]
    wait_until(lambda: health(lab, sut.name)[0] == "healthy", timeout=60, what="back after reset")
    assert sut.boot_id != boot_id  # it was really power-cycled
    wait_until(lambda: json.loads(lab.cli("sched", "lease-list", str(waiting["id"]), "--json").stdout)
               ["lease"]["state"] == "acquired", timeout=60, what="the next lease served")
