"""The CLI's answers when something is wrong: the token, the URL, the server (issue 12, items 1-4)."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.scheduler import Scheduler
from tests.e2e.test_foundation import write_sutclasses


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real scheduler for the module, with the admin's URL and token saved."""
    workdir = tmp_path_factory.mktemp("faults")
    write_sutclasses(workdir)
    s = Scheduler(workdir)
    s.start()
    s.login()
    yield s
    s.stop(signal.SIGKILL)


def users(s: Scheduler) -> list[str]:
    return [u["name"] for u in s.client(s.admin_token()).get("/users")["users"]]


@pytest.mark.parametrize("option", ["--token", "--url"])
def test_an_empty_token_or_url_is_an_error_not_the_saved_one(server, option):
    done = server.cli("sched", "user-create", "eve", "--capabilities", "query", option, "",
                      check=False)
    assert done.returncode == 2, done
    assert done.stderr == f"Error: {option} is empty: " + done.stderr.split(": ", 2)[2]
    assert len(done.stderr.splitlines()) == 1
    assert "eve" not in users(server)  # nothing was sent with the saved admin token
