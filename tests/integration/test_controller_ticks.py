"""The controller one tick at a time, with an injected clock and fake SSH (every backend)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from fastpath.control.controller import Controller
from fastpath.control.tuning import Tuning
from fastpath.core import explain
from fastpath.errors import LostLeadership, StaleWrite
from fastpath.store.models import Event, Lease, Sut
from fastpath.store.queries import control
from tests.fakes import FakeConnections, InlineExecutor
from tests.integration.api_helpers import Api, declare

TUNING = Tuning(probe_interval=60, fresh=5, backoff_base=5, backoff_cap=40, ttl=15)


@pytest.fixture
def world(database, clock, tmp_path):
    api = Api(clock, tmp_path)
    declare(tmp_path, {"demo": 2}, clock(), reset="none")  # the reset after a lease: tests below
    api.user("bob", "lease,query")
    api.user("dave", "lease,query")
    ssh = FakeConnections()
    ctl = Controller(name="c1", tuning=TUNING, clock=clock, connections=ssh, executor=InlineExecutor())
    assert ctl.lead()
    return api, ssh, ctl


def tick(ctl) -> None:
    """What one turn of the real loop does: keep the lead, then pass."""
    assert ctl.lead()
    ctl.run_once()


def health() -> dict:
    return {s.name: s.health for s in Sut.select()}


def test_new_suts_are_probed_and_their_host_keys_pinned(world):
    api, ssh, ctl = world
    assert health() == {"demo-01": "unknown", "demo-02": "unknown"}
    tick(ctl)
    assert health() == {"demo-01": "healthy", "demo-02": "healthy"}
    sut = Sut.get(Sut.name == "demo-01")
    assert sut.host_key == "ssh-ed25519 KEYdemo-01"
    assert sut.facts["base_cmdline"] == "root=/dev/fake quiet"
    assert sut.facts["machine_id"] == "machine-demo-01"


def test_unhealthy_backs_off_and_recovers_by_itself(world, clock):
    api, ssh, ctl = world
    ssh.down.add("demo-02")
    tick(ctl)
    sut = Sut.get(Sut.name == "demo-02")
    assert sut.health == "unhealthy" and "connection refused" in sut.reason
    delays = []
    for _ in range(5):  # capped exponential backoff: 5, 10, 20, 40, 40
        due = Sut.get(Sut.name == "demo-02").next_check_at
        delays.append(due - clock())
        clock.advance(due - clock() - 0.5)
        before = len(ssh.connects)
        tick(ctl)
        assert ssh.connects[before:].count("demo-02") == 0  # not yet
        clock.advance(0.5)
        tick(ctl)
    assert delays == [5, 10, 20, 40, 40]
    ssh.down.clear()
    clock.advance(41)
    tick(ctl)
    assert health()["demo-02"] == "healthy"
    events = [(e.old, e.new) for e in Event.select().where(
        (Event.kind == "sut") & (Event.ref == sut.id)).order_by(Event.id)]
    assert events == [(None, "unknown"), ("unknown", "unhealthy"), ("unhealthy", "healthy")]


def test_a_changed_host_key_makes_the_sut_unhealthy(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    ssh.keys["demo-01"] = "ssh-ed25519 NEWKEY"
    clock.advance(61)  # the idle re-check
    tick(ctl)
    sut = Sut.get(Sut.name == "demo-01")
    assert sut.health == "unhealthy" and "host key changed" in sut.reason
    assert sut.host_key == "ssh-ed25519 KEYdemo-01"  # still the pinned one


def test_a_lease_waits_for_a_fresh_probe(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    clock.advance(30)  # healthy, but not heard from in the last few seconds
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    before = len(ssh.connects)
    tick(ctl)  # probes, then the next pass grants
    assert len(ssh.connects) == before + 1
    tick(ctl)
    got = Lease.get_by_id(lease["id"])
    assert got.state == "acquired" and got.sut.name == ssh.connects[-1]


def test_a_lease_never_gets_a_sut_that_stopped_answering(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    clock.advance(30)
    ssh.down.add("demo-01")
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    for _ in range(3):
        tick(ctl)
    got = Lease.get_by_id(lease["id"])
    assert got.state == "acquired" and got.sut.name == "demo-02"
    assert health()["demo-01"] == "unhealthy"


def test_two_suts_three_waiters_first_come_first_served(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    ids = []
    for who in ("bob", "dave", "bob"):
        ids.append(api.post("/leases", {"sutclass": "demo"}, who=who).json["lease"]["id"])
        clock.advance(1)
    tick(ctl)
    tick(ctl)
    states = [Lease.get_by_id(i).state for i in ids]
    assert states == ["acquired", "acquired", "queued"]
    api.post(f"/leases/{ids[1]}/release", who="dave")
    tick(ctl)
    tick(ctl)
    assert Lease.get_by_id(ids[2]).state == "acquired"
    assert Lease.get_by_id(ids[2]).sut_id == Lease.get_by_id(ids[1]).sut_id


def test_a_pass_is_idempotent(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    api.post("/leases", {"sutclass": "demo"}, who="bob")
    tick(ctl)
    tick(ctl)
    snapshot = [(x.id, x.state, x.sut_id) for x in Lease.select()], health()
    events = Event.select().count()
    tick(ctl)
    tick(ctl)
    assert ([(x.id, x.state, x.sut_id) for x in Lease.select()], health()) == snapshot
    assert Event.select().count() == events


def test_only_the_leader_acts_and_a_standby_takes_over(world, clock):
    api, ssh, ctl = world
    other = Controller(name="c2", tuning=TUNING, clock=clock, connections=ssh,
                       executor=InlineExecutor())
    assert not other.lead()
    clock.advance(TUNING.ttl + 1)  # c1 stopped renewing
    assert other.lead()
    assert control.leader().holder == "c2"
    with pytest.raises(LostLeadership):
        with ctl.fence():
            pass
    clock.advance(TUNING.renew + 1)
    assert not ctl.lead() and ctl.leading_since is None


def test_a_write_stamped_longer_ago_than_its_commit_allows_is_not_committed(world, clock):
    """Time stamps are taken at commit: a controller that stalls inside a fenced write (still
    leading) commits nothing, keeps the lead, and the next pass grants with a fresh stamp."""
    api, ssh, ctl = world
    tick(ctl)
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]["id"]
    real = ctl.fence

    def stalling(what: str = "write"):
        with real(what) as now:
            yield now
            if what == "grant":
                clock.advance(TUNING.stamp + 0.1)  # frozen here, before the commit

    ctl.fence = contextmanager(stalling)  # type: ignore[method-assign]
    with pytest.raises(StaleWrite):
        ctl.run_once()
    assert Lease.get_by_id(lease).state == "queued"
    assert not Event.select().where((Event.kind == "lease") & (Event.new == "acquired")).exists()
    ctl.fence = real  # type: ignore[method-assign]
    clock.advance(1)
    tick(ctl)
    assert ctl.leading_since is not None
    granted = Lease.get_by_id(lease)
    assert granted.state == "acquired" and granted.acquired_at == clock()


def test_maintenance_suts_are_not_probed_or_handed_out(world, clock, tmp_path):
    api, ssh, ctl = world
    Sut.update(health="maintenance").where(Sut.name == "demo-01").execute()
    tick(ctl)
    assert "demo-01" not in ssh.connects
    api.post("/leases", {"sutclass": "demo"}, who="bob")
    api.post("/leases", {"sutclass": "demo"}, who="dave")
    clock.advance(1)
    tick(ctl)
    tick(ctl)
    assert sorted(x.state for x in Lease.select()) == ["acquired", "queued"]


def test_a_lease_is_warned_then_expires_at_its_deadline(world, clock):
    api, ssh, ctl = world
    tick(ctl)
    lease = api.post("/leases", {"sutclass": "demo", "duration": "1h"}, who="bob").json["lease"]
    clock.advance(10)  # queued time does not count
    tick(ctl)  # a probe first: the last answer is too old
    tick(ctl)
    got = Lease.get_by_id(lease["id"])
    assert got.state == "acquired" and got.expires_at == got.acquired_at + 3600

    def seen():
        return [(e.old, e.new) for e in Event.select().where(
            (Event.kind == "lease") & (Event.ref == lease["id"])).order_by(Event.id)][2:]

    clock.advance(3600 - 360 - 1)  # 10 % of 1h (6 min) is sooner than 15 min
    tick(ctl)
    assert seen() == []
    clock.advance(1)
    tick(ctl)
    assert seen() == [("acquired", "expiring")]
    tick(ctl)
    assert seen() == [("acquired", "expiring")]  # once per deadline
    # an extend moves the deadline, and the warning comes again before the new one
    api.post(f"/leases/{lease['id']}/extend", {"duration": "30m"}, who="bob")
    clock.advance(360)
    tick(ctl)
    assert Lease.get_by_id(lease["id"]).state == "acquired"
    clock.advance(1800 - 540)
    tick(ctl)
    assert seen()[-1] == ("acquired", "expiring") and len(seen()) == 3  # plus the extend itself
    clock.advance(540)
    tick(ctl)
    done = Lease.get_by_id(lease["id"])
    assert done.state == "expired" and done.ended_at == clock()
    assert seen()[-1] == ("acquired", "expired")
    # its SUT is free again for the next one
    other = api.post("/leases", {"sutclass": "demo"}, who="dave").json["lease"]
    tick(ctl)
    tick(ctl)
    assert Lease.get_by_id(other["id"]).state == "acquired"


def _sut_events(name: str) -> list[tuple[str, str]]:
    sut = Sut.get(Sut.name == name)
    return [(e.old, e.new) for e in Event.select().where(
        (Event.kind == "sut") & (Event.ref == sut.id)).order_by(Event.id)]


def test_a_released_sut_is_reset_before_anyone_gets_it(world, clock, tmp_path):
    api, ssh, ctl = world
    declare(tmp_path, {"demo": 1}, clock())  # boot: kexec, so reset: reboot
    tick(ctl)
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    tick(ctl)
    assert Lease.get_by_id(lease["id"]).state == "acquired"
    api.post(f"/leases/{lease['id']}/release", who="bob")
    sut = Sut.get(Sut.name == "demo-01")
    assert sut.health == "reset" and sut.reason == f"reset (reboot) after lease {lease['id']}"
    waiting = api.post("/leases", {"sutclass": "demo"}, who="dave").json["lease"]
    assert waiting["reason"].endswith(f"demo-01 being reset since {explain.clock(clock(), clock())} "
                                      f"(reset (reboot) after lease {lease['id']})")
    tick(ctl)  # the reboot is triggered
    assert any("systemctl reboot" in c for n, c in ssh.commands if n == "demo-01")
    assert Lease.get_by_id(waiting["id"]).state == "queued"
    clock.advance(TUNING.boot_poll)
    tick(ctl)  # back with a new boot id on its own kernel: healthy, and handed out
    tick(ctl)
    assert Sut.get(Sut.name == "demo-01").health == "healthy"
    assert Lease.get_by_id(waiting["id"]).state == "acquired"
    assert _sut_events("demo-01")[-2:] == [("healthy", "reset"), ("reset", "healthy")]


def test_a_reset_the_guard_refuses_leaves_the_sut_unhealthy(world, clock, tmp_path):

    api, ssh, ctl = world
    declare(tmp_path, {"demo": 1}, clock())  # reset: reboot
    ctl.leasing._host = {"machine_id": "machine-demo-01", "boot_id": "-"}  # it is this host
    tick(ctl)
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    tick(ctl)
    api.post(f"/leases/{lease['id']}/release", who="bob")
    tick(ctl)
    sut = Sut.get(Sut.name == "demo-01")
    assert sut.health == "unhealthy" and sut.reason.startswith(
        "reset refused: demo-01 is the scheduler's own host")
    assert not any("reboot" in c for _, c in ssh.commands)
    clock.advance(600)  # not re-checked into service behind the admin's back
    tick(ctl)
    assert Sut.get(Sut.name == "demo-01").health == "unhealthy"
    declare(tmp_path, {"demo": 1}, clock(), reset="none")  # the admin's fix, then a reload
    clock.advance(600)
    tick(ctl)
    assert Sut.get(Sut.name == "demo-01").health == "healthy"


def test_a_refused_boot_back_is_not_retried_in_a_loop(world, clock, tmp_path):
    """A boot: none SUT found on another kernel cannot be booted back on this host: it stays
    unhealthy for an admin, and is not probed into service only to be refused again."""
    api, ssh, ctl = world
    declare(tmp_path, {"demo": 1}, clock(), boot="none")
    ctl.leasing._host = {"machine_id": "machine-demo-01", "boot_id": "-"}  # it is this host
    ssh.cmdlines["demo-01"] = "root=/dev/fake quiet fastpath.session=left-by-a-job"
    tick(ctl)
    lease = api.post("/leases", {"sutclass": "demo"}, who="bob").json["lease"]
    for _ in range(3):
        tick(ctl)
    assert Sut.get(Sut.name == "demo-01").health == "unhealthy"
    refusals = [e for e in Event.select() if (e.new == "reset") and e.kind == "sut"]
    for _ in range(10):
        clock.advance(600)
        tick(ctl)
    assert Sut.get(Sut.name == "demo-01").health == "unhealthy"
    assert [e for e in Event.select() if (e.new == "reset") and e.kind == "sut"] == refusals
    assert Lease.get_by_id(lease["id"]).state == "queued"


def test_an_unexpected_error_in_a_probe_backs_off_like_a_failure(world, clock):
    api, ssh, ctl = world
    ssh.crash["demo-02"] = RuntimeError("a bug in the facts parser")
    tick(ctl)
    sut = Sut.get(Sut.name == "demo-02")
    assert sut.health == "unhealthy" and "RuntimeError: a bug in the facts parser" in sut.reason
    tries = ssh.connects.count("demo-02")
    for _ in range(5):  # before the backoff is over, no pass probes it again: no hot loop
        tick(ctl)
    assert ssh.connects.count("demo-02") == tries
    clock.advance(sut.next_check_at - clock())
    del ssh.crash["demo-02"]
    tick(ctl)
    assert Sut.get(Sut.name == "demo-02").health == "healthy"
