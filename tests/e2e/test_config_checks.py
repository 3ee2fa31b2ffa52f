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


def test_a_400_digit_boot_timeout(tmp_path):
    text = GOOD_CLASSES.format(key=tmp_path / "key").replace(
        "boot: none", "boot: none\n    boot_timeout: " + "9" * 400)
    refused(*run(tmp_path, classes=text), "sutclasses.yaml", "boot_timeout")


def test_a_sutclasses_file_that_is_not_utf8(tmp_path):
    refused(*run(tmp_path, classes=b"- sutclass: d\xe9mo\n  type: static\n"), "sutclasses.yaml",
            "not UTF-8")


def test_a_database_file_that_is_not_a_database(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"these are my notes, not SQLite\n" * 100)
    refused(*run(tmp_path, database=f"sqlite:///{bogus}"), "--database", "not a database")
    assert bogus.read_bytes() == b"these are my notes, not SQLite\n" * 100


@pytest.mark.parametrize("where", ["file", "proc"])
def test_storage_that_cannot_be_made(tmp_path, where):
    if where == "file":
        (tmp_path / "plain").write_text("a file")
        storage = str(tmp_path / "plain" / "storage")
    else:
        storage = "/proc/fastpath-storage"
    refused(*run(tmp_path, storage=storage), "--storage", storage)


AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--")


def _for_nobody(tmp_path: Path) -> None:
    """The test directory readable and writable by `nobody`, the user the server runs as, and
    the way to this checkout traversable (a fresh clone may sit in a `mktemp -d` directory)."""
    repo = Path(__file__).resolve().parents[2]
    for p in [tmp_path, *tmp_path.parents, repo, *repo.parents]:
        if p == Path("/"):
            continue
        p.chmod(p.stat().st_mode | 0o711)
    tmp_path.chmod(0o777)


def test_unwritable_storage_as_a_non_root_user(tmp_path):
    _for_nobody(tmp_path)
    storage = tmp_path / "storage"
    storage.mkdir()
    storage.chmod(0o555)
    refused(*run(tmp_path, storage=str(storage), prefix=AS_NOBODY), "--storage", "not writable")


def test_unreadable_keyfile_as_a_non_root_user(tmp_path):
    _for_nobody(tmp_path)
    key = tmp_path / "key"
    key.write_text("secret\n")
    key.chmod(0o600)  # root's, not nobody's
    refused(*run(tmp_path, storage=str(tmp_path / "storage"), prefix=AS_NOBODY), "keyfile",
            "cannot read", str(key))


def test_an_unknown_resultstore_scheme(tmp_path):
    refused(*run(tmp_path, "--resultstore", "foo://bar"), "resultstore", "unknown scheme 'foo'")


def test_the_good_configuration_starts(tmp_path):
    """The control case: the same command with nothing wrong serves /healthz (so each case above
    fails for its own reason)."""
    import urllib.request

    key = tmp_path / "key"
    key.write_text("x")
    file = tmp_path / "sutclasses.yaml"
    file.write_text(GOOD_CLASSES.format(key=key))
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    with (tmp_path / "err").open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "fastpath", "sched", "run", "--port",
                                 str(port), "--database", f"sqlite:///{tmp_path}/s.db",
                                 "--storage", str(tmp_path / "storage"), "--sutclasses", str(file)],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"did not start: {proc.poll()}: {(tmp_path / 'err').read_text()}")
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


@pytest.mark.parametrize("verb", ["api", "controller"])
def test_the_split_verbs_check_storage_too(tmp_path, verb):
    (tmp_path / "plain").write_text("a file")
    port = free_port()
    argv = [sys.executable, "-m", "fastpath", "sched", verb, "--database",
            f"sqlite:///{tmp_path}/s.db", "--storage", str(tmp_path / "plain" / "st")]
    argv += ["--port", str(port)] if verb == "api" else ["--sutclasses", str(tmp_path / "none.yaml")]
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    refused(done, port, "--storage", "cannot be made or written")
