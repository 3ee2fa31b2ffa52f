"""The README's first command, `./run-demo`, followed by the README's next commands."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.scheduler import TOKEN, free_port

REPO = Path(__file__).resolve().parents[2]
DEMO_SUTS = [("127.0.1.1", 2201), ("127.0.1.2", 2202)]


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_run_demo_then_the_readme_commands(tmp_path, wait_until):
    port = free_port()
    demo = tmp_path / "demo"
    env = {**os.environ, "FASTPATH_DEMO_PORT": str(port), "FASTPATH_DEMO_DIR": str(demo),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    with (tmp_path / "demo.out").open("w") as out, (tmp_path / "demo.err").open("w") as err:
        proc = subprocess.Popen([str(REPO / "run-demo")], stdout=out, stderr=err, env=env,
                                start_new_session=True)

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "fastpath", *args], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, f"fastpath {' '.join(args)}: {done.stderr}"
        return done.stdout

    try:
        token = wait_until(lambda: TOKEN.findall((tmp_path / "demo.out").read_text()), timeout=300,
                           what="the admin token")[0]
        wait_until(lambda: answers("127.0.0.1", port), timeout=60, what="the API")
        assert all(answers(*sut) for sut in DEMO_SUTS)
        cli("preference", "set", "--category", "sched", "--name", "url", f"http://127.0.0.1:{port}")
        cli("preference", "set", "--category", "sched", "--name", "token", token)
        assert re.search(r"^1\s+demo\s+yes\s+0/2\s", cli("sched", "sutclass-list"), re.M)

        lease = cli("sched", "lease-acquire", "demo", "--wait")
        assert re.search(r"^State:\s+acquired$", lease, re.M) and "ssh -p 220" in lease
        cli("sched", "lease-release", "1")

        assert "Plan 1 queued on SUT class demo: 4 jobs" in cli(
            "sched", "plan-exec", str(demo / "demo-plan.yaml"))

        def plan() -> dict:
            return json.loads(cli("sched", "plan-list", "1", "--json"))["plan"]

        wait_until(lambda: plan()["publishing"] == "done", timeout=240, what="the demo plan")
        assert plan()["state"] == "completed"
        shown = cli("result", "show", f"sqlite:///{demo}/results.db", "--swprofile", "baseline",
                    "--swprofile", "candidate", "--json")
        compared = json.loads(shown)["comparison"]
        assert {row["benchmark"] for row in compared} == {"testing/busyloop"}
        assert all("candidate" in row["changes"] for row in compared)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the demo's terminal
        code = proc.wait(60)
    assert code == 0
    assert not any(answers(*sut) for sut in DEMO_SUTS)  # the demo stopped its SUTs
