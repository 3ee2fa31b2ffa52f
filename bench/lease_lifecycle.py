"""Leases with a key and a deadline (issue 13): hand-over with the key installed, and expiry lateness.

1. Hand-over with the lessee's key. A real `fastpath sched run` on SQLite with
   one real test SUT (testbed sshd, simulated boots so that its home is its
   own, `boot: none`, so no reset). Each round: lease A (with a key) holds the
   SUT, lease B (with another key) is queued and long-polled as
   `lease-acquire --wait` does; the bench releases A. Measured from the
   database: from A's key removal (the SUT is free again) to B `acquired`
   with its key installed, and from A's release. Next to it, one SSH
   connect + exec (paramiko connect, the boot-facts command, close) of the
   same SUT, measured in the same run. Target: p50 <= 2 connect+exec.
2. Expiry lateness: the controller's real loop (in-process, its real timer
   and passes) over 200 acquired leases on SQLite whose deadlines are spread
   over 20 s, on SUT rows that are never contacted (no probe is due).
   Lateness = the time `expired` was recorded minus the deadline. Target:
   p99 <= 1 s.

    .venv/bin/python bench/lease_lifecycle.py [--handovers N] [--leases N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import yaml
from harness import SUT_NET, free_ports, machine, median, percentile, scheduler, table

from fastpath.sut.facts import boot_facts
from fastpath.sut.remote import Remote, Target
from fastpath.testbed import Testbed

# FASTPATH_TEST_NET keeps a bench beside a test run on loopback addresses of its own
NET = f"{os.environ['FASTPATH_TEST_NET']}." if os.environ.get("FASTPATH_TEST_NET") else SUT_NET


def keypair(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def connect_exec(sut, count: int) -> list[float]:
    target = Target(name=sut.name, host=sut.host, port=sut.port, user=sut.user, keyfile=str(sut.keyfile))
    out = []
    for _ in range(count):
        start = time.perf_counter()
        remote = Remote.connect(target)
        boot_facts(remote)
        remote.close()
        out.append(time.perf_counter() - start)
    return out


def handovers(sched, count: int, keys: list[str]) -> list[int]:
    admin = sched.client(sched.admin_token())
    token = admin.post("/users", {"name": "waiter", "capabilities": "lease,query"})["token"]
    client = sched.client(token)
    holder = client.post("/leases", {"sutclass": "demo", "ssh_key": keys[0]})["lease"]["id"]
    if client.get(f"/leases/{holder}", wait=60)["lease"]["state"] != "acquired":
        raise SystemExit("the first lease did not get the SUT")
    ids = [holder]
    for i in range(count):
        waiter = client.post("/leases", {"sutclass": "demo", "ssh_key": keys[(i + 1) % 2]})["lease"]
        got: dict = {}

        def wait(lease_id=waiter["id"], got=got) -> None:
            got["lease"] = sched.client(token).get(f"/leases/{lease_id}", wait=60)["lease"]

        poller = threading.Thread(target=wait)
        poller.start()
        time.sleep(0.05)
        client.post(f"/leases/{holder}/release")
        poller.join(90)
        if poller.is_alive() or got["lease"]["state"] != "acquired":
            raise SystemExit(f"lease {waiter['id']} was not handed the SUT: {got.get('lease')}")
        holder = waiter["id"]
        ids.append(holder)
    client.post(f"/leases/{holder}/release")
    return ids


def recorded(database: Path, ids: list[int]) -> tuple[list[float], list[float]]:
    """(from the previous key's removal, from the previous release) to the next acquisition."""
    with sqlite3.connect(database) as conn:
        leases = {i: (a, e) for i, a, e in conn.execute("SELECT id, acquired_at, ended_at FROM lease")}
        removed = dict(conn.execute("SELECT lease_id, removed_at FROM lease_key"))
    free, release = [], []
    for a, b in zip(ids, ids[1:], strict=False):
        free.append(leases[b][0] - removed[a])
        release.append(leases[b][0] - leases[a][1])
    return free, release


def expiry_lateness(work: Path, count: int) -> list[float]:
    from fastpath.control.controller import Controller
    from fastpath.control.tuning import Tuning
    from fastpath.sched import sutclasses
    from fastpath.store.db import bind, db
    from fastpath.store.models import Lease
    from fastpath.store.queries import inventory, leases, suts, users

    key = work / "id_none"
    key.write_text("never used: these SUTs are never contacted\n")
    rows = [{"name": f"exp-{i:03d}", "connection": {"method": "SSH", "params": {
        "host": f"{NET}200", "port": 1 + i, "user": "nobody", "keyfile": str(key)}}}
        for i in range(count)]
    (work / "sutclasses.yaml").write_text(yaml.safe_dump([{"sutclass": "expiry", "type": "static",
                                                           "params": {"boot": "none", "suts": rows}}]))
    bind(f"sqlite:///{work}/expiry.db")
    db.connect(reuse_if_open=True)
    now = time.time()
    inventory.sync_inventory(sutclasses.load(work / "sutclasses.yaml"), now)
    user = users.create_user("bench", "lease,query", now, actor="bench")[0]
    for cls_sut in inventory.class_suts(inventory.get_class("expiry").id):
        suts.record_ok(cls_sut.id, now, fresh=True)
    ids = []
    rng = random.Random(13)
    for cls_sut in inventory.class_suts(inventory.get_class("expiry").id):
        lease, _ = leases.request_lease(user, "expiry", 5, now, duration=2 + 20 * rng.random())
        leases.grant_lease(lease.id, cls_sut.id, time.time())
        ids.append(lease.id)
    db.close()
    ctl = Controller(name="bench-expiry", tuning=Tuning(probe_interval=86400, fresh=86400))
    stop = threading.Event()
    loop = threading.Thread(target=ctl.run, args=(stop,))
    loop.start()
    try:
        deadline = time.time() + 40
        while time.time() < deadline:
            with db.connection_context():
                left = Lease.select().where(Lease.state == "acquired").count()
            if not left:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        loop.join(30)
    with db.connection_context():
        done = list(Lease.select().where(Lease.id.in_(ids)))
    if any(x.state != "expired" for x in done):
        raise SystemExit("not every lease expired within 40 s")
    return [x.ended_at - x.expires_at for x in done]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handovers", type=int, default=100)
    parser.add_argument("--leases", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="10 hand-overs, 50 leases")
    args = parser.parse_args()
    count = 10 if args.quick else min(max(args.handovers, 2), 1000)
    many = 50 if args.quick else min(max(args.leases, 1), 1000)

    with tempfile.TemporaryDirectory(prefix="bench-lease-life-") as tmp:
        root = Path(tmp)
        keys = [keypair(root / f"lessee{i}") for i in (1, 2)]
        bed = Testbed(root / "testbed", 1, prefix="bench-ll", first_address=f"{NET}150",
                      first_port=free_ports(1), simulate_boot=True)
        bed.start()
        try:
            sut = bed.suts[0]
            before = connect_exec(sut, 10 if args.quick else 30)
            work = root / "handover"
            work.mkdir()
            bed.write_sutclasses(work / "sutclasses.yaml", "demo", boot="none")
            with scheduler(work, env={"FASTPATH_TUNING": ""}) as sched:
                ids = handovers(sched, count, keys)
            free, release = recorded(work / "scheduler.db", ids)
            after = connect_exec(sut, 10 if args.quick else 30)
        finally:
            bed.stop()
        late = expiry_lateness(root, many)

    ssh = median(before + after)
    print(f"Lease hand-over with the lessee's key installed, one test SUT, SQLite ({machine()})")
    table(["measured (recorded by the scheduler)", "hand-overs", "p50 ms", "p99 ms", "max ms"], [
        [label, len(v), f"{1000 * percentile(v, 50):.1f}", f"{1000 * percentile(v, 99):.1f}",
         f"{1000 * max(v):.1f}"]
        for label, v in (("SUT free (previous key removed) -> acquired", free),
                         ("previous lease released -> acquired", release))])
    table(["one SSH connect + exec + close, same SUT", "runs", "median ms", "p99 ms"], [
        ["paramiko connect, boot facts, close", len(before + after), f"{1000 * ssh:.1f}",
         f"{1000 * percentile(before + after, 99):.1f}"]])
    p50 = percentile(free, 50)
    print(f"hand-over p50 = {p50 / ssh:.2f} x connect+exec (target <= 2: "
          f"{'met' if p50 <= 2 * ssh else 'NOT met'})")
    print()
    print(f"Expiry lateness over {len(late)} leases, deadlines spread over 20 s, SQLite")
    table(["lateness (expired recorded - deadline)", "p50 ms", "p99 ms", "max ms"], [
        ["controller loop, real timer", f"{1000 * percentile(late, 50):.1f}",
         f"{1000 * percentile(late, 99):.1f}", f"{1000 * max(late):.1f}"]])
    print(f"expiry p99 = {percentile(late, 99):.3f} s (target <= 1 s: "
          f"{'met' if percentile(late, 99) <= 1 else 'NOT met'})")
    os.environ.pop("FASTPATH_TUNING", None)


if __name__ == "__main__":
    main()
