"""Lease hand-over latency: from `lease-release` of a SUT to the next waiting lease being acquired.

A real `fastpath sched run` on SQLite with one real test SUT (a testbed sshd
on 127.0.10.x, `boot: none`). Each hand-over: lease A holds the SUT, lease B
is queued and its owner long-polls `GET /leases/B?wait=60` (as `lease-acquire
--wait` does); the bench sends `POST /leases/A/release` and measures until
the long-poll returns B `acquired` (client side, at the API). B then holds
the SUT and the next lease queues behind it. The same interval as the
database recorded it (B.acquired_at - A.ended_at, the server's clocks) is
shown as well.

Next to it, the cost of one SSH probe of the same SUT as the controller does
it (paramiko connect + the one-command boot facts, fastpath/control/prober.py),
and of the command alone on an open connection (the controller keeps one).

Three scenarios, one scheduler each:
  default      - FASTPATH_TUNING unset, what users get; leases held ~0 s: a SUT
                 that answered in the last `fresh` = 5 s is handed over without
                 a probe, so most of these hand-overs need none;
  default-held - the same tuning, each lease held 5.5 s as a person would hold it
                 (longer than `fresh`): every hand-over waits for a probe; few
                 hand-overs (each costs 5.5 s);
  probe        - FASTPATH_TUNING=fresh=0.2, leases held 0.3 s: every hand-over
                 waits for a probe, as in default-held, but 200 of them in a
                 minute. (A `fresh` shorter than the time from a probe's end to
                 the next pass, e.g. 0.001, livelocks: each probe is stale by the
                 time it is read, and the controller probes again.)

    .venv/bin/python bench/lease_handover.py [--handovers N] [--quick]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from harness import SUT_NET, free_ports, machine, median, percentile, scheduler, table

from fastpath.control.tuning import tuning_from
from fastpath.sut.facts import boot_facts
from fastpath.sut.remote import Remote, Target
from fastpath.testbed import Testbed

# name -> (FASTPATH_TUNING, seconds each lease is held, share of --handovers)
SCENARIOS = {"default": (None, 0.0, 1.0), "default-held": (None, 5.5, 0.05),
             "probe": ("fresh=0.2", 0.3, 1.0)}


def probe_costs(sut, count: int) -> tuple[list[float], list[float]]:
    """(connect + boot facts + close, boot facts on an open connection) wall times."""
    target = Target(name=sut.name, host=sut.host, port=sut.port, user=sut.user,
                    keyfile=str(sut.keyfile))
    fresh = []
    for _ in range(count):
        start = time.perf_counter()
        remote = Remote.connect(target)
        boot_facts(remote)
        remote.close()
        fresh.append(time.perf_counter() - start)
    remote = Remote.connect(target)
    try:
        warm = []
        for _ in range(count):
            start = time.perf_counter()
            boot_facts(remote)
            warm.append(time.perf_counter() - start)
    finally:
        remote.close()
    return fresh, warm


def handovers(sched, count: int, hold: float) -> tuple[list[float], list[int]]:
    """Client-side hand-over latencies, and the lease ids in order."""
    admin = sched.client(sched.admin_token())
    token = admin.post("/users", {"name": "waiter", "capabilities": "lease,query"})["token"]
    client = sched.client(token)
    holder = client.post("/leases", {"sutclass": "demo"})["lease"]["id"]
    lease = client.get(f"/leases/{holder}", wait=60)["lease"]
    if lease["state"] != "acquired":
        raise SystemExit(f"the first lease did not get the SUT: {lease}")
    ids, out = [holder], []
    for _ in range(count):
        time.sleep(hold)
        waiter = client.post("/leases", {"sutclass": "demo"})["lease"]
        if waiter["state"] != "queued":
            raise SystemExit(f"the waiting lease is not queued: {waiter}")
        got: dict = {}

        def wait(lease_id=waiter["id"], got=got) -> None:
            got["lease"] = sched.client(token).get(f"/leases/{lease_id}", wait=60)["lease"]
            got["at"] = time.perf_counter()

        poller = threading.Thread(target=wait)
        poller.start()
        time.sleep(0.05)  # the long-poll is in place, as a person's `lease-acquire --wait`
        sent = time.perf_counter()
        client.post(f"/leases/{holder}/release")
        poller.join(90)
        if poller.is_alive() or got["lease"]["state"] != "acquired":
            raise SystemExit(f"lease {waiter['id']} was not handed the SUT: {got.get('lease')}")
        out.append(got["at"] - sent)
        holder = waiter["id"]
        ids.append(holder)
    client.post(f"/leases/{holder}/release")
    return out, ids


def recorded(database: Path, ids: list[int]) -> list[float]:
    """B.acquired_at - A.ended_at for each hand-over, from the database."""
    with sqlite3.connect(database) as conn:
        rows = dict(((i, (a, e)) for i, a, e in conn.execute(
            "SELECT id, acquired_at, ended_at FROM lease")))
    return [rows[b][0] - rows[a][1] for a, b in zip(ids, ids[1:], strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handovers", type=int, default=200)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="20 hand-overs, 5 probes")
    args = parser.parse_args()
    count = 20 if args.quick else min(max(args.handovers, 1), 2000)
    probes = 5 if args.quick else min(max(args.probes, 1), 500)

    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-lease-") as tmp:
        # simulate_boot: its sshd gets a clean login shell; this machine's own ~/.bashrc
        # (pyenv) can hang a command. The class boots `none`: no boot is ever simulated.
        bed = Testbed(Path(tmp) / "testbed", 1, prefix="bench-lh", first_address=f"{SUT_NET}1",
                      first_port=free_ports(1), simulate_boot=True)
        bed.start()
        try:
            sut = bed.suts[0]
            fresh, warm = probe_costs(sut, probes)
            for name, (tuning, hold, share) in SCENARIOS.items():
                work = Path(tmp) / name
                work.mkdir()
                bed.write_sutclasses(work / "sutclasses.yaml", "demo", boot="none")
                env = {"FASTPATH_TUNING": tuning} if tuning else {"FASTPATH_TUNING": ""}
                with scheduler(work, env=env) as sched:
                    client_side, ids = handovers(sched, max(2, round(count * share)), hold)
                server_side = recorded(work / "scheduler.db", ids)
                results[name] = client_side
                fresh_window = tuning_from(tuning).fresh
                for label, values in (("at the API", client_side), ("recorded", server_side)):
                    rows.append([f"{name} (fresh={fresh_window:g}s, held {hold:g}s)", label, len(values),
                                 f"{1000 * percentile(values, 50):.1f}",
                                 f"{1000 * percentile(values, 99):.1f}",
                                 f"{1000 * max(values):.1f}"])
            fresh_after = probe_costs(sut, probes)[0]
        finally:
            bed.stop()

    probe = median(fresh + fresh_after)
    print(f"Lease hand-over, one test SUT ({sut.host}:{sut.port}, boot none), SQLite ({machine()})")
    table(["scenario", "measured", "hand-overs", "p50 ms", "p99 ms", "max ms"], rows)
    print()
    table(["SSH probe of the same SUT", "runs", "median ms", "p99 ms"], [
        ["connect + boot facts + close", len(fresh) + len(fresh_after), f"{1000 * probe:.1f}",
         f"{1000 * percentile(fresh + fresh_after, 99):.1f}"],
        ["boot facts on an open connection", len(warm), f"{1000 * median(warm):.1f}",
         f"{1000 * percentile(warm, 99):.1f}"],
    ])
    print()
    for name, values in results.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(f"{name}: p50 - probe = {1000 * (p50 - probe):+.0f} ms (target <= +100: "
              f"{'met' if p50 - probe <= 0.1 else 'NOT met'}), p99 - probe = "
              f"{1000 * (p99 - probe):+.0f} ms (target <= +300: "
              f"{'met' if p99 - probe <= 0.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
