"""The CLI's answers when something is wrong: the token, the URL, the server (issue 12, items 1-4)."""

from __future__ import annotations

import functools
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


@pytest.fixture
def web_page(tmp_path):
    """Another real HTTP service: Python's file server, which answers HTML."""
    import http.server
    import threading

    (tmp_path / "www").mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp_path / "www")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("verb", "status"), [(["sutclass-list"], 404),
                                             (["lease-acquire", "demo"], 501)])
def test_a_url_of_another_http_service_is_one_line(server, web_page, verb, status):
    done = server.cli("sched", *verb, "--url", web_page, check=False)
    assert done.stderr == \
        f"Error: {web_page} is not a Fastpath scheduler (HTTP {status}, text/html)\n"
    assert done.returncode == 2  # a wrong URL is a usage error, and is not retried
