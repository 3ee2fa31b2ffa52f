"""`sched run` on a busy port, and recovering the admin token (issue 12 item 5)."""

from __future__ import annotations

import signal
import socket

import pytest

from fastpath import errors
from tests.e2e.scheduler import Scheduler
from tests.e2e.test_foundation import write_sutclasses


@pytest.fixture
def sched(tmp_path):
    write_sutclasses(tmp_path)
    s = Scheduler(tmp_path)
    yield s
    s.stop(signal.SIGKILL)


def test_a_busy_port_creates_nothing_and_a_free_one_then_prints_the_token(sched):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", sched.port))
        busy.listen()
        sched.start(wait=False)
        assert sched.proc.wait(60) == 1
        err = sched.errors()
    assert err.splitlines()[-1] == (f"Error: cannot listen on 127.0.0.1:{sched.port}: "
                                    "Address already in use; nothing was created")
    assert sched.output() == ""  # no token, no "Scheduler API on"
    sched.start()  # the port is free now: the admin is created, its token printed once
    assert sched.client(sched.admin_token()).get("/users")["users"][0]["name"] == "admin"


def test_admin_token_rotates_the_admin_token_with_the_database(sched):
    sched.start()
    old = sched.admin_token()
    done = sched.cli("sched", "admin-token", "--database", sched.database)
    assert done.stdout.startswith("New token of admin user 'admin': fpt_")
    new = done.stdout.split()[-1]
    assert [u["name"] for u in sched.client(new).get("/users")["users"]] == ["admin"]
    with pytest.raises(errors.Unauthorized, match="unknown token"):
        sched.client(old).get("/users")
    js = sched.cli("sched", "admin-token", "--database", sched.database, "--json").stdout
    assert '"token": "fpt_' in js
