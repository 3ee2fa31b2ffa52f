"""The CLI's answers when something is wrong: the token, the URL, the server (issue 12, items 1-4)."""

from __future__ import annotations

import functools
import json
import re
import signal

import pytest
import yaml

from tests.e2e.scheduler import Scheduler, free_port
from tests.e2e.test_foundation import write_sutclasses
from tests.e2e.test_plans import plan_file


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


@pytest.mark.parametrize("verb", [["lease-acquire", "demo"], ["lease-acquire", "demo", "--wait"],
                                  ["plan-exec", "PLAN"], ["sutclass-list"]])
def test_a_down_server_with_nothing_created_is_one_line_naming_the_url(server, tmp_path, verb):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    verb = [str(plan_file(tmp_path)) if v == "PLAN" else v for v in verb]
    done = server.cli("sched", *verb, "--url", down, check=False, timeout=60)
    assert done.stderr == f"Error: cannot reach the scheduler at {down}: Connection refused\n"
    assert done.returncode == 6


def test_a_lease_that_exists_is_waited_for_across_a_restart_truthfully(tmp_path, wait_until):
    write_sutclasses(tmp_path)  # SUTs that never answer: the lease stays queued
    s = Scheduler(tmp_path)
    s.start()
    try:
        s.login()
        waiter = s.spawn("sched", "lease-acquire", "demo", "--wait", "--json")
        lease = wait_until(lambda: s.client(s.admin_token()).get("/leases")["leases"],
                           what="the lease")[0]
        s.stop(signal.SIGKILL)
        lines = []
        wait_until(lambda: lines.append(waiter.stderr.readline()) or "retry 2" in lines[-1],
                   what="the second retry message")
        said = [line for line in lines if line.startswith(f"lease {lease['id']}: cannot")]
        assert [re.sub(r"(at \S+): [^;]*;", r"\1: ...;", line) for line in said] == [
            f"lease {lease['id']}: cannot reach the scheduler at {s.url}: ...; retry {n}, the lease is kept\n"
            for n in (1, 2)]
        assert said[-1].endswith(": Connection refused; retry 2, the lease is kept\n")
        s.start()
        s.cli("sched", "lease-release", str(lease["id"]))
        out, _ = waiter.communicate(timeout=60)
        assert waiter.returncode == 0
        assert json.loads(out)["lease"]["state"] == "cancelled"
    finally:
        s.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def big_plan(tmp_path_factory):
    """A plan whose kernel is far larger than any socket buffer."""
    workdir = tmp_path_factory.mktemp("big")
    path = plan_file(workdir, name="big-plan.yaml")
    with (workdir / "Image").open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    return path


def test_a_refused_big_upload_shows_the_answer_not_cannot_reach(server, big_plan):
    query = server.user("quinn", "query")
    for token, message in [("fpt_wrong", "unknown token"),
                           (query, "user 'quinn' lacks the exec capability")]:
        done = server.cli("sched", "plan-exec", str(big_plan), token=token, check=False)
        assert done.returncode == 3, done.stderr
        assert done.stderr.splitlines()[-1] == f"Error: {message}"
        assert "cannot reach" not in done.stderr and "retry" not in done.stderr


def test_a_client_that_sends_the_whole_body_first_still_reads_the_refusal(server):
    """An older client (http.client sends everything, then reads) gets the 401, not a reset."""
    import http.client

    length = 64 * 1024 * 1024
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("POST", "/plans", body=iter([b"\0" * (1024 * 1024)] * 64), headers={
        "Authorization": "Bearer fpt_wrong", "Content-Length": str(length),
        "Content-Type": "multipart/form-data; boundary=x"})
    resp = conn.getresponse()
    assert resp.status == 401
    assert json.loads(resp.read())["description"] == "unknown token"
    conn.close()


def test_a_wrong_token_or_a_misspelt_class_fails_before_any_file_byte(server, big_plan, tmp_path):
    """The dry run: one small request is all a 64 MB plan sends before it is refused."""
    from tests.e2e.proxy import CountingProxy

    misspelt = tmp_path / "misspelt.yaml"
    doc = yaml.safe_load(big_plan.read_text())
    misspelt.write_text(yaml.safe_dump({**doc, "sut": {"sutclass": "dmeo"}}))
    for name in ("Image", "modules.tar.xz"):
        (tmp_path / name).symlink_to(big_plan.parent / name)
    proxy = CountingProxy(server.port)
    try:
        for plan, token, message, status in [
                (big_plan, "fpt_wrong", "unknown token", 3),
                (misspelt, None, "no SUT class named 'dmeo'", 4)]:
            proxy.reset()
            done = server.cli("sched", "plan-exec", str(plan), "--url", proxy.url, token=token,
                              check=False)
            assert done.stderr == f"Error: {message}\n", done.stderr
            assert done.returncode == status
            assert proxy.requests == ["POST /plans HTTP/1.1"]
            assert proxy.sent < 64 * 1024
    finally:
        proxy.close()
