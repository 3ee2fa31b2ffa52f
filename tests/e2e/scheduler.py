"""A real `fastpath sched run` in a subprocess, and the real CLI against it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

FASTPATH = [sys.executable, "-m", "fastpath"]
TOKEN = re.compile(r"^Created default admin user 'admin' with token: (\S+)$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scheduler:
    """`fastpath sched run` with the guide's flags, in `workdir`, in its own process group."""

    def __init__(self, workdir: Path, *, database: str | None = None, resultstore: str | None = None,
                 port: int | None = None, extra: list[str] | None = None,
                 env: dict | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or f"sqlite:///{workdir}/scheduler.db"
        self.resultstore = resultstore
        self.extra = extra or []
        # the CLI gets a HOME of its own, so that no real SSH key of this machine is picked up
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {"HOME": str(self.home), **(env or {})}
        self.config = workdir / "config"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def argv(self) -> list[str]:
        argv = [*FASTPATH, "sched", "run", "--host", "127.0.0.1", "--port", str(self.port),
                "--database", self.database, "--storage", str(self.workdir / "sched_storage"),
                "--sutclasses", str(self.workdir / "sutclasses.yaml"), *self.extra]
        if self.resultstore:
            argv += ["--resultstore", self.resultstore]
        return argv

    def start(self, wait: bool = True, env: dict | None = None) -> None:
        self.starts += 1
        self.err_path = self.workdir / f"run-{self.starts}.err"
        with (self.workdir / f"run-{self.starts}.out").open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen(self.argv(), cwd=self.workdir, stdout=out, stderr=err,
                                         start_new_session=True, env={**os.environ, **(env or {})})
        if wait:
            self.wait_ready()

    def output(self) -> str:
        return "".join((self.workdir / f"run-{i}.out").read_text() for i in range(1, self.starts + 1))

    def errors(self) -> str:
        return self.err_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"scheduler exited with {self.proc.returncode}:\n{self.errors()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"scheduler not ready after {timeout}s:\n{self.errors()}")

    def admin_token(self) -> str:
        tokens = TOKEN.findall(self.output())
        assert len(tokens) == 1, self.output()
        return tokens[0]

    def login(self) -> str:
        """Save the guide's preferences (URL, admin token); the admin token."""
        token = self.admin_token()
        self.cli("preference", "set", "--category", "sched", "--name", "url", self.url)
        self.cli("preference", "set", "--category", "sched", "--name", "token", token)
        return token

    def user(self, name: str, capabilities: str) -> str:
        """`fastpath sched user-create`; the new user's token."""
        out = self.cli("sched", "user-create", name, "--capabilities", capabilities).stdout
        return out.strip().rsplit(" ", 1)[1]

    def client(self, token: str):
        from fastpath.cli.client import Client

        return Client(self.url, token)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Stop it: SIGTERM to the scheduler, or SIGKILL to its whole process group."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        if sig == signal.SIGKILL:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        deadline = time.monotonic() + timeout
        while self.group_alive() and time.monotonic() < deadline:  # the rest of the group
            time.sleep(0.05)
        return code

    def group_alive(self) -> list[int]:
        """Processes of the scheduler's process group that are still alive (not zombies)."""
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split() if _running(int(p))]

    def spawn(self, *args: str, token: str | None = None) -> subprocess.Popen:
        """Start `fastpath ARGS` in the background (a person waiting in another terminal)."""
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.config), **self.env}
        argv = [*FASTPATH, *args] + (["--token", token] if token else [])
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=self.workdir)

    def cli(self, *args: str, token: str | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `fastpath ARGS` as a user would, with this scheduler's config directory."""
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.config), **self.env}
        argv = [*FASTPATH, *args]
        if token is not None:
            argv += ["--token", token]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=self.workdir)
        if check and done.returncode != 0:
            raise AssertionError(f"fastpath {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
