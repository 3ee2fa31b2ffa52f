"""`plan-exec` sends a plan's files as blobs: only the missing ones, with progress on a terminal.

The real CLI against a real `fastpath sched run`, through a proxy that counts
the bytes the CLI sends. The class's SUTs never answer, so plans stay queued.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import signal
import subprocess

import pytest
import yaml

from tests.e2e.proxy import CountingProxy
from tests.e2e.scheduler import FASTPATH, Scheduler
from tests.e2e.test_plans import plan_file

MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("blobs")
    key = workdir / "id_none"
    key.write_text("placeholder: these SUTs are never reached")
    suts = [{"name": f"never-{i}", "connection": {"method": "SSH", "params": {
        "host": f"127.0.8.{i}", "port": 1, "user": "fpuser", "keyfile": str(key)}}}
        for i in (1, 2)]
    (workdir / "sutclasses.yaml").write_text(yaml.safe_dump([{
        "sutclass": "demo", "type": "static",
        "params": {"boot": "power_cycle", "power_cycle": ["/bin/false"], "suts": suts}}]))
    s = Scheduler(workdir)
    s.start()
    s.login()
    proxy = CountingProxy(s.port)
    s.proxy = proxy
    yield s
    proxy.close()
    s.stop(signal.SIGKILL)


@pytest.fixture
def kernel_plan(tmp_path):
    path = plan_file(tmp_path)
    (tmp_path / "Image").write_bytes(os.urandom(6 * MB))  # more than the progress threshold
    # modules of this test's own (the server reads them only when a job runs)
    (tmp_path / "modules.tar.xz").write_bytes(os.urandom(1000))
    return path


def exec_via_proxy(s, plan, *args: str) -> subprocess.CompletedProcess:
    s.proxy.reset()
    return s.cli("sched", "plan-exec", str(plan), "--json", "--url", s.proxy.url, *args)


def stored(s) -> set[str]:
    return {p.name for p in (s.workdir / "sched_storage" / "blobs").glob("*/*")}


def test_a_kernel_submitted_again_is_not_sent_again(server, kernel_plan, tmp_path):
    first = exec_via_proxy(server, kernel_plan)
    kernel = hashlib.sha256((tmp_path / "Image").read_bytes()).hexdigest()
    assert kernel in stored(server)
    assert server.proxy.sent > 6 * MB
    puts = [r for r in server.proxy.requests if r.startswith("PUT ")]
    assert len(puts) == 2 and f"PUT /blobs/sha256:{kernel} HTTP/1.1" in puts, server.proxy.requests
    again = exec_via_proxy(server, kernel_plan)
    assert [r.split()[:2] for r in server.proxy.requests] == [
        ["POST", "/plans"], ["POST", "/blobs/missing"], ["POST", "/plans"]]
    assert server.proxy.sent < 16 * 1024  # three small JSON requests, no file byte
    # two plans, the same blob
    ids = [json.loads(done.stdout)["plan"]["id"] for done in (first, again)]
    assert ids[0] != ids[1]
    client = server.client(server.admin_token())
    assert {client.get(f"/plans/{i}")["plan"]["state"] for i in ids} == {"queued"}


def test_on_a_pipe_no_progress_is_shown(server, kernel_plan):
    done = exec_via_proxy(server, kernel_plan)
    assert done.stderr == ""
    assert server.proxy.sent > 6 * MB  # a file was sent: there was progress to show


def test_on_a_terminal_a_progress_bar_shows_rate_and_eta(server, kernel_plan, tmp_path):
    """stderr a pseudo-terminal, as in a user's shell; the modules were sent before."""
    modules = plan_file(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path)
    (modules.parent / "modules.tar.xz").write_bytes((tmp_path / "modules.tar.xz").read_bytes())
    exec_via_proxy(server, modules)
    primary, secondary = pty.openpty()
    env = {**os.environ, "XDG_CONFIG_HOME": str(server.config), **server.env}
    child = subprocess.Popen([*FASTPATH, "sched", "plan-exec", str(kernel_plan)], env=env,
                             stdout=subprocess.PIPE, stderr=secondary, cwd=server.workdir)
    os.close(secondary)
    said = b""
    try:
        while chunk := os.read(primary, 4096):
            said += chunk
    except OSError:  # EIO: the child closed its end
        pass
    out, _ = child.communicate(timeout=60)
    os.close(primary)
    assert child.returncode == 0, said
    text = said.decode(errors="replace")
    assert "Uploading 1 file (6.0 MiB), 1 already on the scheduler" in text, text
    assert "100%" in text and "MiB/s" in text, text
    assert b"queued on SUT class demo" in out
