"""Two controllers as two OS processes on one PostgreSQL database (DESIGN §2: one active controller).

A split deployment: one `fastpath sched api` and two `fastpath sched controller`
processes. Only the leader acts; when it dies, the standby takes over once
the lead expires; a leader that was frozen past its lead (SIGSTOP, as a long
GC pause or a stalled VM would) steps down when it wakes and writes nothing.
No SUT is ever held twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.databases import scratch_database
from tests.e2e.scheduler import FASTPATH, TOKEN, free_port

TTL = 3.0
TUNING = (f"ttl={TTL},renew=0.5,standby=0.2,probe_interval=5,fresh=3,backoff_base=0.5,"
          "backoff_cap=2")


class Process:
    """One `fastpath sched VERB` in its own process group, its output in files."""

    def __init__(self, workdir, name: str, argv: list[str], tuning: str = TUNING,
                 env: dict | None = None) -> None:
        self.out = workdir / f"{name}.out"
        self.err = workdir / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, start_new_session=True,
                                         env={**os.environ, "FASTPATH_TUNING": tuning, **(env or {})})
        self.pid = self.proc.pid

    def holds(self, holder: str | None) -> bool:
        """Whether `holder` (host:pid:boot.start) names this process."""
        return (holder or "").startswith(f"{os.uname().nodename}:{self.pid}:")

    def log(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def signal(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def pg_url(tmp_path):
    with scratch_database("postgresql", str(tmp_path)) as url:
        yield url


def sql(url: str, query: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url.replace("postgresql://", "postgres://", 1)) as conn, conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()


def overlaps(url: str) -> list:
    rows = sql(url, "SELECT sut_id, started_at, COALESCE(ended_at, 1e18) FROM usage"
                    " ORDER BY sut_id, started_at")
    return [(a, b) for a, b in zip(rows, rows[1:], strict=False) if a[0] == b[0] and b[1] < a[2]]


def test_one_active_controller_and_takeover(pg_url, suts, tmp_path, wait_until):
    suts.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot="none", suts=suts.suts[:2])
    common = ["--database", pg_url, "--storage", str(tmp_path / "storage")]
    controller = [*FASTPATH, "sched", "controller", *common,
                  "--sutclasses", str(tmp_path / "sutclasses.yaml")]
    procs: list[Process] = []

    def start(name: str, argv: list[str]) -> Process:
        procs.append(Process(tmp_path, name, argv))
        return procs[-1]

    try:
        a = start("controller-a", controller)
        token = wait_until(lambda: TOKEN.findall(a.log()), timeout=60, what="the admin token")[0]
        b = start("controller-b", controller)
        port = free_port()
        start("api", [*FASTPATH, "sched", "api", *common, "--host", "127.0.0.1", "--port", str(port)])

        from fastpath.cli.client import Client

        client = Client(f"http://127.0.0.1:{port}", token)
        wait_until(lambda: _answers(client), timeout=60, what="the API")

        def holder() -> str | None:
            rows = sql(pg_url, "SELECT holder FROM leader")
            return rows[0][0] if rows else None

        first = wait_until(holder, what="a leader")
        active, standby = (a, b) if a.holds(first) else (b, a)
        assert active.holds(first)
        # both are up and stay up, but only one ever said it leads, and no token was printed twice
        assert "now the active controller" in active.log()
        assert "now the active controller" not in standby.log()
        assert TOKEN.findall(b.log()) == [] and active.proc.poll() is None and standby.proc.poll() is None

        def lease(id: int) -> dict:
            return client.get(f"/leases/{id}")["lease"]

        ids = [client.post("/leases", body={"sutclass": "demo"})["lease"]["id"] for _ in range(3)]
        wait_until(lambda: [lease(i)["state"] for i in ids] == ["acquired", "acquired", "queued"],
                   what="two leases acquired, one waiting")

        # the leader dies; the waiter is served by the standby once the lead has expired
        active.signal(signal.SIGKILL)
        client.post(f"/leases/{ids[0]}/release")
        wait_until(lambda: standby.holds(holder()), timeout=TTL + 30, what="the standby to take over")
        wait_until(lambda: lease(ids[2])["state"] == "acquired", what="the waiter to be served")
        assert "now the active controller" in standby.log()

        # a fresh standby; then the leader freezes past its lead and wakes up again
        c = start("controller-c", controller)
        standby.signal(signal.SIGSTOP)
        wait_until(lambda: c.holds(holder()), timeout=TTL + 30, what="controller c to take over")
        client.post(f"/leases/{ids[1]}/release")
        late = client.post("/leases", body={"sutclass": "demo"})["lease"]["id"]
        wait_until(lambda: lease(late)["state"] == "acquired", what="c to serve a new waiter")
        standby.signal(signal.SIGCONT)
        wait_until(lambda: re.search(r"lost the lead|controller pass failed", standby.log()),
                   timeout=30, what="the woken controller to notice it no longer leads")
        assert c.holds(holder())
        for i in (ids[2], late):
            client.post(f"/leases/{i}/release")
        states = [lease(i)["state"] for i in [*ids, late]]
        assert states == ["released"] * 4
        assert overlaps(pg_url) == []
    finally:
        for p in procs:
            p.stop()


def test_a_restart_on_the_same_host_takes_the_lead_of_its_dead_self_at_once(pg_url, tmp_path,
                                                                          wait_until):
    """With a long lead (60 s), a SIGKILLed controller's successor does not wait it out."""
    (tmp_path / "sutclasses.yaml").write_text("[]\n")
    argv = [*FASTPATH, "sched", "controller", "--database", pg_url, "--storage",
            str(tmp_path / "storage"), "--sutclasses", str(tmp_path / "sutclasses.yaml")]
    slow = TUNING.replace(f"ttl={TTL}", "ttl=60")
    first = Process(tmp_path, "first", argv, tuning=slow)
    second = None
    try:
        def lead() -> tuple:
            try:
                rows = sql(pg_url, "SELECT holder, renewed_at, expires_at FROM leader")
            except Exception:  # noqa: BLE001 (the schema is not made yet)
                rows = []
            return rows[0] if rows else (None, None, None)

        old = wait_until(lambda: first.holds(lead()[0]) and lead(), timeout=60,
                         what="the first controller to lead")
        first.signal(signal.SIGKILL)
        first.proc.wait(10)
        second = Process(tmp_path, "second", argv, tuning=slow)
        new = wait_until(lambda: second.holds(lead()[0]) and lead(), timeout=30,
                         what="the restarted controller to lead")
        assert new[1] < old[2]  # taken before the dead holder's lead had expired
        assert f"took the lead from {old[0]}, which no longer runs" in second.log()
    finally:
        for p in (first, second):
            if p is not None:
                p.stop()


def test_a_leader_frozen_inside_a_transaction_does_not_block_the_standby(pg_url, tmp_path,
                                                                        wait_until):
    """SIGSTOP (a failpoint) inside a fenced write, holding the leader row's lock: the standby
    takes over, and the write, when the old leader wakes, does not commit."""
    from tests.e2e.test_foundation import write_sutclasses

    write_sutclasses(tmp_path, host_prefix="127.0.9.")  # SUTs that never answer: a fenced write
    argv = [*FASTPATH, "sched", "controller", "--database", pg_url, "--storage",
            str(tmp_path / "storage"), "--sutclasses", str(tmp_path / "sutclasses.yaml")]
    marks = tmp_path / "marks"
    marks.mkdir()
    frozen = Process(tmp_path, "frozen", argv, env={"FASTPATH_FAILPOINTS": "in-fence",
                                                    "FASTPATH_FAILPOINT_DIR": str(marks)})
    standby = None
    try:
        wait_until(lambda: (marks / "in-fence").exists(), timeout=60, what="the freeze")
        standby = Process(tmp_path, "standby", argv)
        wait_until(lambda: standby.holds((sql(pg_url, "SELECT holder FROM leader") or [[None]])[0][0]),
                   timeout=30, what="the standby to take over from the frozen leader")
        taken_at = sql(pg_url, "SELECT renewed_at FROM leader")[0][0]
        frozen.signal(signal.SIGCONT)
        wait_until(lambda: re.search(r"lost the lead|controller pass failed|LostLeadership|"
                                     r"idle-in-transaction|server closed", frozen.log()),
                   timeout=30, what="the woken leader to fail its write")
        assert standby.holds(sql(pg_url, "SELECT holder FROM leader")[0][0])
        # the frozen write (the SUTs' first failed probe) never committed: every event is newer
        health = wait_until(lambda: sql(pg_url, "SELECT at, detail FROM event WHERE kind = 'sut' "
                                                "AND new = 'unhealthy'"), what="the standby's probes")
        assert all(at >= taken_at for at, _ in health), (taken_at, health)
    finally:
        for p in (frozen, standby):
            if p is not None:
                p.stop()


@pytest.mark.parametrize("freeze", ["within-lead", "past-lead"])
def test_a_grant_frozen_inside_its_transaction_is_stamped_at_commit_or_not_committed(
        freeze, pg_url, suts, tmp_path, wait_until):
    """The leader is SIGSTOPped (a failpoint) inside a lease grant's transaction, after its
    writes and before its commit, while a standby runs. Woken while its lead still holds, it
    must not commit the grant stamped with the time it froze at; frozen past its lead, it must
    commit nothing. Either way the lease is granted once, stamped after the freeze."""
    import time

    from fastpath.cli.client import Client

    suts.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot="none", suts=suts.suts[:1])
    common = ["--database", pg_url, "--storage", str(tmp_path / "storage")]
    argv = [*FASTPATH, "sched", "controller", *common, "--sutclasses", str(tmp_path / "sutclasses.yaml")]
    # within-lead: a lead (10 s) and PostgreSQL's idle-in-transaction limit (5 s) outlast the
    # freeze (1.5 s), so only the stamp's age (at most 0.5 s at commit) can stop that commit
    tuning = TUNING.replace(f"ttl={TTL}", "ttl=10") + ",stamp=0.5" if freeze == "within-lead" else TUNING
    marks = tmp_path / "marks"
    marks.mkdir()
    procs: list[Process] = []
    try:
        a = Process(tmp_path, "controller-a", argv, tuning=tuning,
                    env={"FASTPATH_FAILPOINTS": "in-grant", "FASTPATH_FAILPOINT_DIR": str(marks)})
        procs.append(a)
        token = wait_until(lambda: TOKEN.findall(a.log()), timeout=60, what="the admin token")[0]

        def holder() -> str | None:
            rows = sql(pg_url, "SELECT holder FROM leader")
            return rows[0][0] if rows else None

        wait_until(lambda: a.holds(holder()), timeout=30, what="controller a to lead")
        b = Process(tmp_path, "controller-b", argv, tuning=tuning)
        procs.append(b)
        port = free_port()
        procs.append(Process(tmp_path, "api", [*FASTPATH, "sched", "api", *common, "--host",
                                               "127.0.0.1", "--port", str(port)], tuning=tuning))
        client = Client(f"http://127.0.0.1:{port}", token)
        wait_until(lambda: _answers(client), timeout=60, what="the API")
        lease = client.post("/leases", body={"sutclass": "demo"})["lease"]["id"]
        wait_until(lambda: (marks / "in-grant").exists(), timeout=60, what="the freeze in the grant")
        stopped = time.time()  # the frozen grant's stamp is older than this
        if freeze == "within-lead":
            time.sleep(1.5)
        else:
            wait_until(lambda: b.holds(holder()), timeout=TTL + 30, what="b to take over")
            wait_until(lambda: sql(pg_url, f"SELECT state FROM lease WHERE id = {lease}")[0][0]
                       == "acquired", what="b to grant the lease")
        woken = time.time()
        a.signal(signal.SIGCONT)

        def granted() -> list[tuple]:
            return sql(pg_url, f"SELECT acquired_at FROM lease WHERE id = {lease} AND state = 'acquired'")

        acquired_at = wait_until(granted, what="the lease to be granted")[0][0]
        if freeze == "within-lead":  # a stale stamp is not committed: granted again, after waking
            assert acquired_at >= woken, (acquired_at, stopped, woken)
            assert a.holds(holder()) and "not committed" in a.log()
        else:  # the woken leader commits nothing
            wait_until(lambda: re.search(r"lost the lead|controller pass failed|idle-in-transaction|"
                                         r"server closed", a.log()),
                       timeout=30, what="the woken leader to fail its write")
            assert b.holds(holder())
            assert acquired_at >= stopped, (acquired_at, stopped)
        usage = sql(pg_url, f"SELECT started_at FROM usage WHERE kind = 'lease' AND ref = {lease}")
        events = sql(pg_url, f"SELECT at FROM event WHERE kind = 'lease' AND ref = {lease} "
                             "AND new = 'acquired'")
        assert len(usage) == 1 and len(events) == 1, (usage, events)
        assert usage[0][0] == events[0][0] == acquired_at
        assert overlaps(pg_url) == []
    finally:
        for p in procs:
            p.stop()


def _answers(client) -> bool:
    try:
        client.get("/healthz")
        return True
    except Exception:  # noqa: BLE001 (not up yet)
        return False


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
