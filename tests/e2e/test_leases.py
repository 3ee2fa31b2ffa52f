"""The guide's lease sections with the real scheduler, the real CLI and real SSH SUTs."""

from __future__ import annotations

import json
import signal

import yaml

from fastpath.sut.remote import Remote, Target


def leases(s, *args, token=None) -> list[dict]:
    return json.loads(s.cli("sched", "lease-list", *args, "--json", token=token).stdout)["leases"]


def test_acquire_wait_list_release_as_the_guide_shows(scheduler, suts, wait_until):
    s = scheduler()
    s.start()
    s.login()
    bob = s.user("bob", "lease,query")
    dave = s.user("dave", "lease,query")

    out = s.cli("sched", "lease-acquire", "demo", "--wait", token=bob).stdout
    assert "State:       acquired" in out.replace("  ", " ") or "acquired" in out
    sut = next(line.split()[-1] for line in out.splitlines() if line.startswith("SUT:"))
    host = next(line.split()[-1] for line in out.splitlines() if line.startswith("Host:"))
    port = int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Port:")))
    assert "Connect with your own lab credentials: ssh -p" in out
    # the SUT we were handed really answers over SSH
    test_sut = suts.sut(sut)
    assert (test_sut.host, test_sut.port) == (host, port)
    r = Remote.connect(Target(sut, host, port, test_sut.user, str(suts.keyfile)))
    assert r.run("hostname").stdout.strip() == sut
    r.close()

    queued = s.cli("sched", "lease-acquire", "demo", token=dave).stdout  # returns at once
    assert "Lease:" in queued
    wait_until(lambda: len(leases(s, "--all-users")) == 2, what="two active leases")
    mine = leases(s, token=bob)
    assert [x["user"] for x in mine] == ["bob"]
    by_id = s.cli("sched", "lease-list", str(mine[0]["id"]), token=dave).stdout
    assert "Lease:" in by_id and sut in by_id
    assert [x["state"] for x in leases(s, "--states", "acquired", "--all-users")].count("acquired") >= 1
    assert {x["user"] for x in leases(s, "--users", "dave")} == {"dave"}

    denied = s.cli("sched", "lease-release", str(mine[0]["id"]), token=dave, check=False)
    assert denied.returncode == 3 and "belongs to another user" in denied.stderr
    released = s.cli("sched", "lease-release", str(mine[0]["id"]), token=bob).stdout
    assert released.startswith(f"Lease {mine[0]['id']} released (SUT {sut})")
    again = s.cli("sched", "lease-release", str(mine[0]["id"]), token=bob, check=False)
    assert again.returncode == 5 and "already released" in again.stderr
    everything = leases(s, "--all-users", "--all-states")
    assert [x["state"] for x in everything][0] == "released"
    listing = s.cli("sched", "sutclass-list").stdout.splitlines()[1].split()
    assert listing[3].endswith("/2")


def test_two_suts_three_waiters_are_served_in_order(scheduler, wait_until):
    s = scheduler()
    s.start()
    s.login()
    tokens = [s.user(f"u{i}", "lease,query") for i in range(3)]
    procs = []
    for i, t in enumerate(tokens):  # three people waiting, one after the other
        procs.append(s.spawn("sched", "lease-acquire", "demo", "--wait", "--json", token=t))
        wait_until(lambda n=i + 1: len(leases(s, "--all-users", "--all-states")) == n,
                   what="the lease to be queued")
    first = [json.loads(p.communicate(timeout=60)[0])["lease"] for p in procs[:2]]
    assert [x["state"] for x in first] == ["acquired", "acquired"]
    assert [x["user"] for x in first] == ["u0", "u1"]
    assert procs[2].poll() is None  # the third still waits
    waiting = leases(s, "--all-users", "--states", "queued")
    assert len(waiting) == 1 and waiting[0]["position"] == 1 and waiting[0]["user"] == "u2"
    s.cli("sched", "lease-release", str(first[1]["id"]))
    out, err = procs[2].communicate(timeout=60)
    third = json.loads(out)["lease"]
    assert third["state"] == "acquired" and third["sut"]["name"] == first[1]["sut"]["name"]
    assert "waiting for a SUT of class demo, position 1 in the queue" in err


def test_health_follows_the_real_sshd(scheduler, suts, tmp_path, wait_until):
    s = scheduler()
    s.start()
    s.login()

    def health(name):
        doc = json.loads(s.cli("sched", "sutclass-list", "--json").stdout)
        detail = s.client(s.admin_token()).get("/sutclasses/demo")["sutclass"]
        del doc
        return {x["name"]: (x["health"], x["reason"]) for x in detail["suts"]}[name]

    victim = suts.suts[0]
    wait_until(lambda: health(victim.name)[0] == "healthy", what="healthy at start")
    victim.stop()
    wait_until(lambda: health(victim.name)[0] == "unhealthy", timeout=60, what="unhealthy")
    assert "connection refused" in health(victim.name)[1]
    victim.start()
    wait_until(lambda: health(victim.name)[0] == "healthy", timeout=60, what="recovered")

    old_key = (victim.dir / "hostkey").read_bytes(), (victim.dir / "hostkey.pub").read_bytes()
    try:
        victim.stop()
        victim.new_host_key()
        victim.start()
        wait_until(lambda: "host key changed" in (health(victim.name)[1] or ""), timeout=60,
                   what="host key change noticed")
        assert health(victim.name)[0] == "unhealthy"
        # the operator accepts the new key in the configuration and reloads (SIGHUP)
        doc = yaml.safe_load((tmp_path / "sutclasses.yaml").read_text())
        new_key = " ".join((victim.dir / "hostkey.pub").read_text().split()[:2])
        doc[0]["params"]["suts"][0]["connection"]["params"]["host_key"] = new_key
        (tmp_path / "sutclasses.yaml").write_text(yaml.safe_dump(doc))
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: health(victim.name)[0] == "healthy", timeout=60, what="accepted key")
    finally:
        victim.stop()
        (victim.dir / "hostkey").write_bytes(old_key[0])
        (victim.dir / "hostkey.pub").write_bytes(old_key[1])
        victim.start()
