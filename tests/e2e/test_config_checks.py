"""`fastpath sched run` with bad configuration: one clear line and a non-zero exit, before binding.

Each case starts the real command (no test SUTs needed: it must stop before
it would reach any) and reads what a person at the terminal would see.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.scheduler import free_port

GOOD_CLASSES = ("- sutclass: demo\n  type: static\n  params:\n    boot: none\n    suts:\n"
                "      - name: demo-01\n        connection:\n          method: SSH\n"
                "          params: {{host: 192.0.2.1, keyfile: {key}}}\n")


def run(tmp_path: Path, *extra: str, classes: str | bytes | None = None, database: str | None = None,
        storage: str | None = None, prefix: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, int]:
    key = tmp_path / "key"
    if not key.exists():
        key.write_text("not a key, never read here\n")
        key.chmod(0o644)
    file = tmp_path / "sutclasses.yaml"
    text = GOOD_CLASSES.format(key=key) if classes is None else classes
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    port = free_port()
    argv = [*prefix, sys.executable, "-m", "fastpath", "sched", "run", "--host", "127.0.0.1",
            "--port", str(port), "--database", database or f"sqlite:///{tmp_path}/scheduler.db",
            "--storage", storage or str(tmp_path / "storage"), "--sutclasses", str(file), *extra]
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    return done, port


def refused(done: subprocess.CompletedProcess, port: int, *words: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode not in (0, None), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert "Listening at" not in done.stdout + done.stderr
    with socket.socket() as s:  # nothing is left bound to the port
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("text, words", [
    ("- sutclass: demo\n  type: static\n  sutclass: again\n",
     ("sutclasses.yaml: line 3, column 3", "duplicate key 'sutclass' (first on line 1)")),
    ("- &c {sutclass: demo, type: static}\n- *c\n", ("line 2, column 3", "aliases are not allowed")),
    ("- {sutclass: demo, type: static, params: {x: .NaN}}\n", ("not a finite number",)),
])
def test_hostile_sutclasses_yaml(tmp_path, text, words):
    refused(*run(tmp_path, classes=text), *words)
