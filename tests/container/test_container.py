"""The project's Dockerfile, built on a local Debian base and run with podman as a lab would.

One container on a named volume, with a mounted SUT class whose only SUT is
an unreachable loopback address; the host's own CLI talks to it. Then
SIGTERM, a restart and a fresh container on the same volume: the data stays
and no second admin token appears.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.container.podman import TOKEN, Podman, free_port, wait_healthz

NET = os.environ.get("FASTPATH_TEST_NET", "127.0.6")
STATE = "/var/lib/fastpath"


def sutclasses_file(path: Path) -> Path:
    # Port 9 on an unused loopback address: the controller's probes fail at once.
    path.write_text(yaml.safe_dump([{"sutclass": "ghost", "type": "static", "params": {
        "boot": "none", "suts": [{"name": "ghost-01", "connection": {"method": "SSH", "params": {
            "host": f"{NET}.254", "port": 9, "user": "fpuser"}}}]}}]))
    path.chmod(0o644)  # read by the container's non-root user
    return path


class Scheduler:
    """`podman run` of the image with the state volume, the SUT classes file and a port."""

    def __init__(self, podman: Podman, image: str, volume: str, sutclasses: Path) -> None:
        self.podman, self.image, self.volume, self.sutclasses = podman, image, volume, sutclasses
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.names: list[str] = []

    @property
    def name(self) -> str:
        return self.names[-1]

    def run(self) -> None:
        self.names.append(f"fp-test-{uuid.uuid4().hex[:10]}")
        self.podman("run", "--detach", "--name", self.name, "--network", "host",
                    "--env", f"FASTPATH_PORT={self.port}",
                    "--volume", f"{self.volume}:{STATE}",
                    "--volume", f"{self.sutclasses}:/etc/fastpath/sutclasses.yaml:ro", self.image)
        self.wait_ready()

    def wait_ready(self) -> None:
        wait_healthz(self.url, alive=self.running)

    def running(self) -> bool:
        return self.state()["Running"]

    def state(self) -> dict:
        return self.podman.inspect("container", self.name)["State"]

    def tokens(self, name: str | None = None) -> list[str]:
        out, _ = self.podman.logs(name or self.name)
        return TOKEN.findall(out)

    def cli(self, *args: str, token: str) -> subprocess.CompletedProcess:
        """The host's own CLI (`.venv/bin/python -m fastpath sched ...`) against the container."""
        proc = subprocess.run([sys.executable, "-m", "fastpath", "sched", *args, "--url", self.url,
                               "--token", token], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"fastpath sched {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def users(self, token: str) -> list[str]:
        from fastpath.cli.client import Client

        return [u["name"] for u in Client(self.url, token).get("/users")["users"]]

    def exec(self, *argv: str) -> str:
        return self.podman("exec", self.name, *argv).stdout


@pytest.fixture(scope="module")
def scheduler(podman: Podman, scheduler_image: str, tmp_path_factory) -> Iterator[Scheduler]:
    volume = f"fp-test-{uuid.uuid4().hex[:10]}"
    podman("volume", "create", volume)
    sched = Scheduler(podman, scheduler_image, volume,
                      sutclasses_file(tmp_path_factory.mktemp("ct") / "sutclasses.yaml"))
    try:
        sched.run()
        yield sched
    finally:
        for name in sched.names:
            out, err = podman.logs(name)
            print(f"--- logs of {name}\n{out[-4000:]}\n{err[-4000:]}")
        podman.remove(*sched.names)
        podman("volume", "rm", "--force", volume, check=False)


def admin_token(sched: Scheduler) -> str:
    tokens = sched.tokens(sched.names[0])
    assert len(tokens) == 1, f"expected one admin token banner, got {tokens}"
    return tokens[0]


def test_first_start_prints_one_token_and_the_hosts_cli_answers(scheduler):
    token = admin_token(scheduler)
    classes = json.loads(scheduler.cli("sutclass-list", "--json", token=token).stdout)
    assert [c["name"] for c in classes["sutclasses"]] == ["ghost"]

    out = scheduler.cli("user-create", "alice", "--capabilities", "exec,lease,query", token=token).stdout
    [alice] = re.findall(r"with token: (\S+)", out)
    assert "ghost" in scheduler.cli("sutclass-list", token=alice).stdout
    assert "alice" in scheduler.users(token)


def test_runs_as_non_root_with_state_only_in_the_volume(scheduler):
    uid, gid = scheduler.exec("id", "-u").strip(), scheduler.exec("id", "-g").strip()
    assert uid != "0" and gid != "0"
    assert scheduler.exec("id", "-gn").strip() == "fastpath"  # the image's own group, not a bare gid
    assert scheduler.exec("stat", "-c", "%u:%g", STATE).strip() == f"{uid}:{gid}"
    assert {"scheduler.db", "storage"} <= set(scheduler.exec("ls", STATE).split())
    # Nothing written to the container's own layer but scratch (gunicorn's worker heartbeat
    # files in /tmp) and what podman itself puts in /etc and /run: all state is in the volume.
    changed = [path for path in (line.split()[-1] for line in
                                 scheduler.podman("diff", scheduler.name).stdout.splitlines())
               if not path.startswith(("/tmp", "/run", "/etc"))]
    assert changed == []


def test_the_image_holds_the_package_data(scheduler):
    probe = ("import fastpath, pathlib; root = pathlib.Path(fastpath.__file__).parent; "
             "print(root); print(*sorted(str(p.relative_to(root)) for p in root.rglob('*.yaml')))")
    root, files = scheduler.exec("python3", "-c", probe).splitlines()
    assert root.startswith("/opt/fastpath/")
    assert {"benchmarks/speedometer/v2.1.yaml", "benchmarks/mmtests/kernbench.yaml"} <= set(files.split())


def test_the_image_serves_the_dashboard(scheduler):
    """Its templates, styles and script are in the image: the login page, then the overview."""
    import urllib.error
    import urllib.parse
    import urllib.request

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kw):
            return None  # look at each redirect instead of following it

    plain = urllib.request.build_opener(Stay)
    with pytest.raises(urllib.error.HTTPError) as no_cookie:
        plain.open(scheduler.url + "/")
    no_cookie.value.close()  # a refusal holds its connection open until closed
    assert no_cookie.value.code == 303 and no_cookie.value.headers["Location"].startswith("/ui/login")
    with urllib.request.urlopen(scheduler.url + "/ui/login") as r:
        assert 'name="token"' in r.read().decode()
    with urllib.request.urlopen(scheduler.url + "/ui/static/dashboard.js") as r:
        assert b"FP-Fragment" in r.read()
    body = urllib.parse.urlencode({"token": admin_token(scheduler), "next": "/"}).encode()
    with pytest.raises(urllib.error.HTTPError) as login:
        plain.open(urllib.request.Request(scheduler.url + "/ui/login", data=body))
    login.value.close()
    cookie = login.value.headers["Set-Cookie"].split(";")[0]
    assert login.value.code == 303 and "HttpOnly" in login.value.headers["Set-Cookie"]
    with urllib.request.urlopen(urllib.request.Request(scheduler.url + "/", headers={"Cookie": cookie})) as r:
        page = r.read().decode()
    assert 'data-sutclass="ghost"' in page and 'data-sut="ghost-01"' in page


def test_healthcheck_passes(scheduler):
    proc = scheduler.podman("healthcheck", "run", scheduler.name, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    health = scheduler.state().get("Health") or scheduler.state().get("Healthcheck")
    assert health["Status"] == "healthy", health


def test_sigterm_stops_it_and_the_state_survives_restarts(scheduler):
    token = admin_token(scheduler)
    scheduler.cli("user-create", "persisted", "--capabilities", "query", token=token)

    # A generous grace period: had SIGTERM not stopped it, SIGKILL would show as 137.
    scheduler.podman("stop", "--time", "30", scheduler.name)
    state = scheduler.state()
    assert (state["Status"], state["ExitCode"]) == ("exited", 0)
    out, err = scheduler.podman.logs(scheduler.name)
    assert "Shutting down: Master" in out + err

    scheduler.podman("start", scheduler.name)
    scheduler.wait_ready()
    assert "persisted" in scheduler.users(token)
    assert len(scheduler.tokens()) == 1  # the logs of both starts

    scheduler.podman("stop", "--time", "30", scheduler.name)
    assert scheduler.state()["ExitCode"] == 0
    scheduler.run()  # a new container on the same volume
    assert scheduler.tokens() == []
    assert "persisted" in scheduler.users(token)
    classes = json.loads(scheduler.cli("sutclass-list", "--json", token=token).stdout)
    assert [c["name"] for c in classes["sutclasses"]] == ["ghost"]
