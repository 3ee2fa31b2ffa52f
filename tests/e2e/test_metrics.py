"""`/metrics` against a real `fastpath sched run` (two API workers and the controller) and a real
split deployment (`fastpath sched controller --metrics-port`), over real test SUTs.

After a known sequence of leases and a plan, every scrape (whichever worker
answers) agrees with the database: the gauges count its rows, the hand-over
and job step histograms replay its usage intervals and recorded steps, and
the request counts add up over both workers. The controller's pass and lead
are in the same scrape, through the run's shared metrics directory. A real Prometheus
(Debian's) scrapes it, configured by deploy/prometheus.yml.example.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.scheduler import FASTPATH, TOKEN, free_port
from tests.e2e.test_ha import Process
from tests.e2e.test_plans import finished, plan_file

pytestmark = pytest.mark.slow


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:  # no token: /metrics is public
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def series(samples: dict, name: str) -> dict[tuple, float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def rows(db: str, query: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def expected_handovers(db: str) -> dict[str, list[float]]:
    """kind -> hand-over latencies, replayed from the usage intervals and the holders' queue times."""
    queued = {("lease", i): t for i, t in rows(db, "SELECT id, queued_at FROM lease")}
    queued |= {("job", i): t for i, t in rows(db, "SELECT id, queued_at FROM job")}
    out: dict[str, list[float]] = defaultdict(list)
    freed: dict[int, float] = {}
    for sut, kind, ref, start, end in rows(db, "SELECT sut_id, kind, ref, started_at, ended_at FROM usage"
                                               " ORDER BY sut_id, started_at"):
        if sut in freed and queued[(kind, ref)] <= freed[sut]:
            out[kind].append(start - freed[sut])
        if end is not None:
            freed[sut] = max(freed.get(sut, end), end)
    return out


def expected_steps(db: str) -> dict[str, list[float]]:
    """step -> durations, from the completed jobs' recorded steps (each ends when the next begins)."""
    out: dict[str, list[float]] = defaultdict(list)
    for progress, finished_at in rows(db, "SELECT progress, finished_at FROM job WHERE state='completed'"):
        steps = json.loads(progress)["steps"]
        for (step, began), (_, nxt) in zip(steps, steps[1:], strict=False):
            out[step].append(nxt - began)
        out[steps[-1][0]].append(finished_at - steps[-1][1])
    return out


def test_one_scrape_of_either_worker_agrees_with_the_database(scheduler, tmp_path, wait_until):
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "histogram_999999.db").write_bytes(b"not a metrics file of this run")
    s = scheduler(boot="none", extra=["--workers", "2"])
    s.start(env={"PROMETHEUS_MULTIPROC_DIR": str(shared)})
    assert not (shared / "histogram_999999.db").exists()  # an earlier run's files are cleared
    s.login()
    bob = s.client(s.user("bob", "lease,query"))
    alice = s.user("alice", "exec,query")
    db = str(tmp_path / "scheduler.db")

    def lease(id: int) -> str:
        return bob.get(f"/leases/{id}")["lease"]["state"]

    # two leases hold both SUTs; a third waits, and gets the first one's SUT when it is released
    wait_until(lambda: value(scrape(s.url), "fastpath_suts", sutclass="demo", state="free") == 2,
               timeout=60, what="both SUTs free")
    ids = [bob.post("/leases", body={"sutclass": "demo"})["lease"]["id"] for _ in range(3)]
    wait_until(lambda: [lease(i) for i in ids] == ["acquired", "acquired", "queued"], what="two leases")
    m = scrape(s.url)
    assert value(m, "fastpath_suts", sutclass="demo", state="lease") == 2
    assert value(m, "fastpath_queue_length", sutclass="demo") == 1
    assert value(m, "fastpath_queue_oldest_wait_seconds", sutclass="demo") > 0
    bob.post(f"/leases/{ids[0]}/release")
    wait_until(lambda: lease(ids[2]) == "acquired", what="the waiting lease")
    # a plan of two jobs waits for both SUTs, and gets each as a lease lets it go
    quick = {"warmups": 0, "repeats": 1, "sessions": 2}
    s.cli("sched", "plan-exec", str(plan_file(tmp_path, defaults=quick, swprofiles=[{"name": "base"}])),
          token=alice)
    wait_until(lambda: value(scrape(s.url), "fastpath_queue_length", sutclass="demo") == 2,
               what="the plan's jobs queued")
    for id in ids[1:]:
        bob.post(f"/leases/{id}/release")
    wait_until(lambda: finished(s, 1), timeout=120, what="the plan")
    wait_until(lambda: value(scrape(s.url), "fastpath_suts", sutclass="demo", state="free") == 2,
               timeout=60, what="both SUTs free again")

    handovers, steps = expected_handovers(db), expected_steps(db)
    assert len(handovers["lease"]) == 1 and len(handovers["job"]) == 2, handovers
    for _ in range(6):  # several scrapes: each may be answered by either worker
        m = scrape(s.url)
        for (cls, state), n in Counter({(c, st): n for c, st, n in rows(
                db, "SELECT c.name, l.state, COUNT(*) FROM lease l JOIN sut_class c ON c.id = l.sutclass_id"
                    " GROUP BY c.name, l.state")}).items():
            assert value(m, "fastpath_leases", sutclass=cls, state=state) == n
        assert value(m, "fastpath_leases", sutclass="demo", state="released") == 3
        assert value(m, "fastpath_jobs", sutclass="demo", state="completed") == 2
        assert value(m, "fastpath_jobs", sutclass="demo", state="queued") == 0
        assert value(m, "fastpath_plans", state="completed") == 1
        assert value(m, "fastpath_queue_length", sutclass="demo") == 0
        assert value(m, "fastpath_queue_oldest_wait_seconds", sutclass="demo") == 0
        assert sum(series(m, "fastpath_suts").values()) == rows(db, "SELECT COUNT(*) FROM sut")[0][0]
        for kind, latencies in handovers.items():
            assert value(m, "fastpath_handover_latency_seconds_count", kind=kind) == len(latencies)
            assert value(m, "fastpath_handover_latency_seconds_sum", kind=kind) == pytest.approx(
                sum(latencies), abs=1e-6)
        for step, durations in steps.items():
            assert value(m, "fastpath_job_step_duration_seconds_count", step=step) == len(durations)
            assert value(m, "fastpath_job_step_duration_seconds_sum", step=step) == pytest.approx(
                sum(durations), abs=1e-6)
        assert {dict(k)["step"] for k in series(m, "fastpath_job_step_duration_seconds_count")} == set(steps)
        # the controller's own, through the run's shared directory
        assert value(m, "fastpath_controller_is_leader") == 1
        assert value(m, "fastpath_controller_pass_duration_seconds_count") > 0

    # the request counts add up over both workers, whichever answered
    def healthz_count() -> float:
        return value(scrape(s.url), "fastpath_api_request_duration_seconds_count",
                     method="GET", route="/healthz", status="200") or 0

    def pids() -> set[str]:  # the processes that wrote a histogram: the controller and each worker
        return {p.name.split("_")[-1] for p in shared.glob("histogram_*.db")}

    before, sent = healthz_count(), 0
    while len(pids()) < 3 or sent < 20:  # until both workers have answered
        urllib.request.urlopen(s.url + "/healthz", timeout=10).close()
        sent += 1
        assert sent < 2000, f"one API worker answered every request: {pids()}"
    assert healthz_count() == before + sent


def test_a_split_controller_serves_its_own_metrics(suts, tmp_path, wait_until):
    suts.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot="none", suts=suts.suts[:1])
    common = ["--database", f"sqlite:///{tmp_path}/scheduler.db", "--storage", str(tmp_path / "storage")]
    port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    procs = []
    try:
        procs.append(Process(tmp_path, "controller", [
            *FASTPATH, "sched", "controller", *common, "--sutclasses", str(tmp_path / "sutclasses.yaml"),
            "--metrics-host", "127.0.0.1", "--metrics-port", str(port)], env=env))
        wait_until(lambda: TOKEN.findall(procs[0].log()), timeout=60, what="the admin token")
        controller = f"http://127.0.0.1:{port}"

        def leading() -> dict | None:
            try:
                m = scrape(controller)
            except OSError:
                return None
            return m if value(m, "fastpath_controller_is_leader") == 1 else None

        m = wait_until(leading, timeout=60, what="the controller's metrics")
        wait_until(lambda: value(scrape(controller), "fastpath_controller_pass_duration_seconds_count"),
                   what="a pass counted")
        assert value(m, "fastpath_suts", sutclass="demo", state="free") is None  # the API counts those
        procs.append(Process(tmp_path, "api", [*FASTPATH, "sched", "api", *common, "--host", "127.0.0.1",
                                               "--port", str(api_port)], env=env))
        api = f"http://127.0.0.1:{api_port}"

        def api_metrics() -> dict | None:
            try:
                return scrape(api)
            except OSError:
                return None

        m = wait_until(api_metrics, timeout=60, what="the API")
        assert sum(series(m, "fastpath_suts").values()) == 1
        assert value(m, "fastpath_controller_is_leader") is None  # another process: scraped there
        # `sched api` shares its workers' metrics too: each scrape counts every one before it
        counts = [value(scrape(api), "fastpath_api_request_duration_seconds_count", method="GET",
                        route="/metrics", status="200") for _ in range(8)]
        assert counts == [counts[0] + i for i in range(8)], counts
    finally:
        for p in procs:
            p.stop()


def test_a_real_prometheus_scrapes_it_with_the_example_configuration(scheduler, tmp_path, wait_until):
    """Debian's Prometheus, configured by deploy/prometheus.yml.example (the API target pointed at
    this scheduler), reads every sample; promtool finds nothing to lint in the exposition."""
    assert shutil.which("prometheus") and shutil.which("promtool"), "run scripts/bootstrap test"
    s = scheduler(boot="none")
    s.start()
    with urllib.request.urlopen(s.url + "/metrics", timeout=10) as r:
        text = r.read()
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    example = Path(__file__).resolve().parents[2] / "deploy" / "prometheus.yml.example"
    config = yaml.safe_load(example.read_text())
    config["global"]["scrape_interval"] = "1s"
    api = next(job for job in config["scrape_configs"] if job["job_name"] == "fastpath-api")
    api["static_configs"] = [{"targets": [f"127.0.0.1:{s.port}"]}]
    config["scrape_configs"] = [api]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (tmp_path / "prometheus.log").open("w") as log:
        prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def query(expr: str) -> list | None:
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.load(r)["data"]["result"] or None
            except OSError:
                return None

        up = wait_until(lambda: query('up{job="fastpath-api"}'), timeout=60, what="Prometheus' scrape")
        assert up[0]["value"][1] == "1", (tmp_path / "prometheus.log").read_text()
        free = wait_until(lambda: query('fastpath_suts{sutclass="demo",state="free"} == 2'), timeout=60,
                          what="both SUTs free, as Prometheus read it")
        assert free[0]["metric"]["job"] == "fastpath-api"
        assert query("fastpath_controller_is_leader")[0]["value"][1] == "1"
        assert query("fastpath_controller_pass_duration_seconds_count > 0")
        assert query('fastpath_api_request_duration_seconds_count{route="/metrics",status="200"} > 0')
    finally:
        os.killpg(prom.pid, signal.SIGTERM)
        prom.wait(30)
    # the run's metrics directory (a temporary one: none was given) is removed when it stops
    dirs = {environ(pid).get("PROMETHEUS_MULTIPROC_DIR") for pid in s.group_alive()} - {None}
    assert len(dirs) == 1, dirs
    shared = Path(dirs.pop())
    assert shared.is_dir() and list(shared.glob("histogram_*.db"))
    assert s.stop() == 0
    assert not shared.exists()


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
