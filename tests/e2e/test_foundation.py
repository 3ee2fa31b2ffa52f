"""The first half of the user guide against a real `fastpath sched run` (issue: foundation)."""

from __future__ import annotations

import json
import os
import signal
import stat

import pytest
import yaml

from tests.e2e.scheduler import Scheduler, _running


def write_sutclasses(workdir, n=2, name="demo", host_prefix="127.0.8."):
    key = workdir / "id_ed25519"
    key.write_text("placeholder: these SUTs are never reached in this test")
    doc = [{"sutclass": name, "type": "static", "params": {"boot": "none", "suts": [
        {"name": f"{name}-{i:02d}", "connection": {"method": "SSH", "params": {
            "host": f"{host_prefix}{i}", "port": 1, "user": "fpuser", "keyfile": str(key)}}}
        for i in range(1, n + 1)]}}]
    (workdir / "sutclasses.yaml").write_text(yaml.safe_dump(doc))


@pytest.fixture
def sched(tmp_path):
    write_sutclasses(tmp_path)
    s = Scheduler(tmp_path)
    yield s
    s.stop(signal.SIGKILL)


def test_the_guide_from_start_to_inspection(sched, tmp_path):
    sched.start()
    token = sched.admin_token()
    out = sched.output()
    assert f"****\nCreated default admin user 'admin' with token: {token}\n****\n" in out

    sched.cli("preference", "set", "--category", "sched", "--name", "url", sched.url)
    sched.cli("preference", "set", "--category", "sched", "--name", "token", token)
    assert sched.cli("preference", "get", "--category", "sched", "--name", "url").stdout == sched.url + "\n"
    assert sched.cli("preference", "get", "--category", "sched", "--name", "token").stdout == token + "\n"
    prefs = tmp_path / "config" / "fastpath" / "preferences.json"
    assert stat.S_IMODE(prefs.stat().st_mode) == 0o600

    listing = sched.cli("sched", "sutclass-list").stdout.splitlines()
    assert listing[0].split() == ["ID", "NAME", "ENABLED", "IN", "USE", "CREATED"]
    assert listing[1].split()[:4] == ["1", "demo", "yes", "0/2"]

    alice = sched.cli("sched", "user-create", "alice", "--capabilities", "exec,query").stdout
    bob = sched.cli("sched", "user-create", "bob", "--capabilities", "lease,query").stdout
    assert alice.startswith("Created user 'alice'") and "token: " in alice
    bob_token = bob.strip().rsplit(" ", 1)[1]

    # working as bob with --token; bob may query but not create users
    assert "demo" in sched.cli("sched", "sutclass-list", token=bob_token).stdout
    denied = sched.cli("sched", "user-create", "eve", "--capabilities", "query", token=bob_token,
                       check=False)
    assert denied.returncode == 3 and "lacks the admin capability" in denied.stderr
    assert denied.stderr.count("\n") == 1  # one line

    window = sched.cli("sched", "sutclass-list", "--from", "2026-03-01", "--to", "2026-04-01").stdout
    assert "USAGE" in window.splitlines()[0] and "0.0%" in window
    js = json.loads(sched.cli("sched", "sutclass-list", "--json").stdout)
    assert js["sutclasses"][0]["usage"] == {"in_use": 0, "total": 2}

    # restart: everything persisted, and no second admin or token
    assert sched.stop() == 0
    sched.start()
    assert "Created default admin user" not in (tmp_path / "run-2.out").read_text()
    users = json.loads(sched.cli("sched", "user-create", "carol", "--capabilities", "query",
                                 "--json").stdout)
    assert users["user_id"] == 4  # admin, alice, bob, then carol
    assert "demo" in sched.cli("sched", "sutclass-list", token=bob_token).stdout


def test_sigterm_and_ctrl_c_stop_everything(sched):
    for sig in (signal.SIGTERM, signal.SIGINT):
        sched.start()
        assert len(sched.group_alive()) >= 4  # supervisor, controller, gunicorn arbiter, workers
        if sig == signal.SIGINT:  # Ctrl-C reaches the whole foreground group
            os.killpg(sched.proc.pid, signal.SIGINT)
            sched.proc.wait(30)
        else:
            assert sched.stop(sig) == 0
        assert sched.group_alive() == []


def test_sigkill_leaves_no_orphan(sched, wait_until):
    sched.start()
    children = [p for p in sched.group_alive() if p != sched.proc.pid]
    assert children
    os.kill(sched.proc.pid, signal.SIGKILL)  # only the supervisor: its children must follow
    wait_until(lambda: not any(_running(p) for p in children),
               timeout=30, what="children to die with their parent")


def test_bad_sutclasses_file_is_a_clear_error(sched, tmp_path):
    (tmp_path / "sutclasses.yaml").write_text("- sutclass: demo\n  type: static\n  params:\n"
                                              "    suts:\n      - name: x\n        connection: {}\n")
    sched.start(wait=False)
    assert sched.proc.wait(60) == 2
    err = sched.errors().strip().splitlines()[-1]
    assert err.startswith("Error: ") and "sutclasses.yaml: [0].params.suts[0].connection.method" in err
    assert "Created default admin" not in sched.output()  # nothing was set up half-way


def test_cli_errors_without_preferences_or_server(sched, tmp_path):
    done = sched.cli("sched", "sutclass-list", check=False)
    assert done.returncode == 2 and "no scheduler URL" in done.stderr
    done = sched.cli("sched", "sutclass-list", "--url", "http://127.0.0.1:1", "--token", "x",
                     check=False)
    assert done.returncode == 6 and "cannot reach the scheduler at http://127.0.0.1:1" in done.stderr
    done = sched.cli("preference", "get", "--category", "sched", "--name", "url", check=False)
    assert done.returncode == 4 and "no preference sched.url" in done.stderr
