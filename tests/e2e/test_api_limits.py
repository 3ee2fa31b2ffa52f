"""The API's limits and caches against the real `fastpath sched run` (2 workers), with the CLI.

A revoked token stops working in every worker within the token cache's time
(`user-update --disable`, `--rotate-token`, `sched admin-token` on the
database); a plan that would take a user past `--max-queued-jobs` is refused
with a 409 naming the limit, and changes nothing. The SUTs are addresses
nobody answers on: the jobs stay queued.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest
import yaml

from tests.e2e.conftest import FAST
from tests.e2e.scheduler import Scheduler

LIMIT = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limits")
    key = workdir / "id_none"
    key.write_text("not a key: these SUTs are never reached\n")
    suts = [{"name": f"nobody-{i}", "connection": {"method": "SSH", "params": {
        "host": "127.0.0.1", "port": 1, "user": "nobody", "keyfile": str(key)}}} for i in range(2)]
    (workdir / "sutclasses.yaml").write_text(yaml.safe_dump(
        [{"sutclass": "demo", "type": "static", "params": {"boot": "none", "suts": suts}}]))
    s = Scheduler(workdir, extra=["--max-queued-jobs", str(LIMIT)])
    s.start(env={"FASTPATH_TUNING": FAST})
    try:
        s.login()
        yield s
    finally:
        s.stop(signal.SIGKILL)


def status(s: Scheduler, token: str) -> int:
    """One request on a new connection (either worker may take it)."""
    req = urllib.request.Request(s.url + "/sutclasses", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def refused_everywhere(s: Scheduler, token: str) -> bool:
    """Refused by 20 requests in a row: by both workers, not by one of them by chance."""
    return all(status(s, token) == 401 for _ in range(20))


@pytest.mark.parametrize("how", ["disable", "rotate-token", "admin-token"])
def test_a_revoked_token_stops_working_in_every_worker(server, wait_until, how):
    s = server
    name = f"u-{how}"
    old = s.admin_token() if how == "admin-token" else s.user(name, "query")
    for _ in range(20):  # both workers remember it
        assert status(s, old) == 200
    new = None
    if how == "disable":
        s.cli("sched", "user-update", name, "--disable")
    elif how == "rotate-token":
        new = s.cli("sched", "user-update", name, "--rotate-token").stdout.strip().rsplit(" ", 1)[1]
    else:  # an operator on the database, no API involved
        out = s.cli("sched", "admin-token", "--database", s.database, "--json").stdout
        new = json.loads(out)["token"]
        s.cli("preference", "set", "--category", "sched", "--name", "token", new)
    wait_until(lambda: refused_everywhere(s, old), timeout=30, what="the old token refused")
    if new is not None:
        assert status(s, new) == 200


def test_a_plan_past_the_queued_jobs_limit_is_refused_naming_it(server, tmp_path):
    s = server
    alice = s.user("alice", "exec,query")
    plan = tmp_path / "plan.yaml"

    def submit(sessions: int, check: bool = True):
        plan.write_text(yaml.safe_dump({
            "sut": {"sutclass": "demo"}, "swprofiles": [{"name": "baseline"}],
            "benchmarks": [{"include": "testing/busyloop.yaml"}],
            "defaults": {"benchmark": {"sessions": sessions, "timeout": "1h"}}}))
        return s.cli("sched", "plan-exec", str(plan), token=alice, check=check)

    submit(3)
    done = submit(3, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert ("too many queued jobs: user 'alice' has 3 queued and this plan adds 3; the limit is "
            f"{LIMIT} queued jobs per user (the scheduler's --max-queued-jobs)") in done.stderr
    listed = json.loads(s.cli("sched", "plan-list", "--json", token=alice).stdout)["plans"]
    assert [p["progress"]["total"] for p in listed] == [3]
    submit(2)  # up to the limit is fine
