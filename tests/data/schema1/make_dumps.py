"""Write the schema-1 databases of the upgrade test, with the code of release ab9b480.

Run once, from a checkout of ab9b480 (the test only reads the dumps):

    git worktree add /tmp/old ab9b480
    PYTHONPATH=/tmp/old .venv/bin/python tests/data/schema1/make_dumps.py tests/data/schema1

It fills each backend with users, SUT classes, a finished and a queued plan
with jobs, a released and an acquired lease (events come with them), then
dumps it as SQL: `*.db` files are not kept in git.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

NOW = 1_790_000_000.0
PLAN = {"sut": {"sutclass": "demo"},
        "swprofiles": [{"name": "baseline"}, {"name": "candidate"}],
        "benchmarks": [{"include": "testing/busyloop.yaml"}],
        "defaults": {"benchmark": {"sessions": 2, "repeats": 1, "warmups": 0}}}


def fill(url: str, tmp: Path) -> None:
    from falcon.testing import TestClient
    from fastpath.sched.api import create_app
    from fastpath.sched.db import bind
    from fastpath.sched.models import Job, Sut

    from fastpath.sched import queries
    from fastpath.sched.sutclasses import parse

    bind(url)
    # no connection context: the API's middleware opens and closes connections itself
    admin = queries.ensure_admin(NOW)
    key = tmp / "key"
    key.write_text("x")
    doc = [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"demo-0{i}", "connection": {"method": "SSH", "params": {
            "host": f"192.0.2.{i}", "user": "fpuser", "keyfile": str(key)}}} for i in (1, 2)]}}]
    queries.sync_inventory(parse(yaml.safe_dump(doc), source="s.yaml", base=tmp), NOW)
    client = TestClient(create_app(storage=tmp / "storage", clock=lambda: NOW))
    h = {"Authorization": f"Bearer {admin}"}

    def post(path: str, body: dict, headers: dict) -> dict:
        r = client.simulate_post(path, json=body, headers=headers)
        assert r.status_code < 300, r.json
        return r.json

    alice = post("/users", {"name": "alice", "capabilities": "exec,lease,query"}, h)["token"]
    a = {"Authorization": f"Bearer {alice}"}
    done = post("/plans", {"plan": PLAN}, a)["plan"]["id"]
    post("/plans", {"plan": PLAN, "priority": 3}, a)
    released = post("/leases", {"sutclass": "demo"}, a)["lease"]["id"]
    acquired = post("/leases", {"sutclass": "demo", "priority": 7}, h)["lease"]["id"]
    suts = [s.id for s in Sut.select().order_by(Sut.id)]
    for s in suts:
        queries.record_ok(s, NOW, facts={"base_cmdline": "root=/dev/vda"})
    for i, job in enumerate(Job.select().where(Job.plan == done).order_by(Job.id)):
        assert queries.assign_job(job.id, suts[0], NOW + 10 + i)
        queries.start_running(Job.get_by_id(job.id), NOW + 11 + i)
        queries.finish_job(Job.get_by_id(job.id), "completed", NOW + 12 + i, publish=False,
                           results=3, errors=0)
    queries.rollup_plan(done, NOW + 20)
    assert queries.grant_lease(released, suts[0], NOW + 30)
    queries.release_lease(queries.get_lease(released), "alice", NOW + 40)
    assert queries.grant_lease(acquired, suts[1], NOW + 50)


def main(out: Path) -> None:
    sys.path.append(str(Path(__file__).resolve().parents[3]))  # for tests.databases, after the old code
    from tests import databases

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"
        fill(f"sqlite:///{path}", Path(tmp))
        with sqlite3.connect(path) as conn:
            (out / "sqlite.sql").write_text("\n".join(conn.iterdump()) + "\n")
    for kind in ("postgresql", "mysql"):
        with databases.scratch_database(kind, tmp_dir=None) as url, tempfile.TemporaryDirectory() as tmp:
            from fastpath.sched.db import db

            fill(url, Path(tmp))
            db.close_all()
            name = url.rsplit("/", 1)[1]
            if kind == "postgresql":
                sql = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-h",
                                      databases.PG_HOST, "-U", databases.PG_USER, name],
                                     check=True, capture_output=True, text=True).stdout
            else:
                sql = subprocess.run(["mariadb-dump", "--skip-comments", "-h", databases.MYSQL_HOST,
                                      "-u", databases.MYSQL_USER, name],
                                     check=True, capture_output=True, text=True).stdout
            (out / f"{kind}.sql").write_text(sql)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
