"""One long-lived shell per SSH connection (`fastpath.sut.shell`), on the testbed's real sshd's."""

from __future__ import annotations

import os
import signal

import pytest

from fastpath.sut.remote import Remote, Target, Unreachable


@pytest.fixture
def remote(suts):
    sut = suts.suts[0]
    r = Remote.connect(Target(name=sut.name, host=sut.host, port=sut.port, user=sut.user,
                              keyfile=str(suts.keyfile)))
    yield r
    r.close()


@pytest.fixture
def login_count(suts, tmp_path):
    """A ~/.bashrc on the SUT that counts the login shell's starts (bash reads it under sshd)."""
    rc, log = suts.suts[0].dir / "home" / ".bashrc", tmp_path / "logins"
    rc.write_text(f"echo login >> {log}\n")
    yield lambda: len(log.read_text().splitlines()) if log.exists() else 0
    rc.unlink()


def test_scripts_on_one_connection_share_one_shell_and_nothing_else(remote, login_count):
    shells = set()
    for _ in range(5):
        shells.add(remote.run("echo $PPID").stdout.strip())  # the shell the script runs under
    assert len(shells) == 1
    assert login_count() == 1  # the login shell (and its rc files) started once, not per script
    # what a script does to its own shell (cd, variables, set -e, exit) stays in it
    done = remote.run("cd /tmp && X=1 && set -e && printf 'out\\nno newline' && echo err >&2 && exit 3",
                      check=False)
    assert (done.status, done.stdout, done.stderr) == (3, "out\nno newline", "err\n")
    after = remote.run('pwd; echo "X=$X"; false; echo still here')
    assert after.stdout.splitlines()[1:] == ["X=", "still here"]
    assert after.stdout.splitlines()[0] != "/tmp" and after.stderr == ""
    assert remote.run("echo $PPID").stdout.strip() in shells


def test_a_big_script_passes_intact(remote):
    lines = [f"echo line-{i}-{'x' * 100}" for i in range(3000)]  # ~340 KB: more than an argument
    done = remote.run("\n".join(lines) + "\nprintf 'no newline at the end' >&2")
    out = done.stdout.splitlines()
    assert len(out) == 3000 and out[0] == f"line-0-{'x' * 100}" and out[-1] == f"line-2999-{'x' * 100}"
    assert done.stderr == "no newline at the end"
    assert remote.run("echo next").stdout == "next\n"  # the stream is where it should be


def test_a_shell_that_died_between_scripts_is_replaced(remote, wait_until):
    first = int(remote.run("echo $PPID").stdout)
    os.kill(first, signal.SIGKILL)  # the test SUTs share this host's pid namespace
    shell = remote._shell
    assert shell is not None
    wait_until(lambda: not shell.usable(), what="the connection to learn that its shell ended")
    second = int(remote.run("echo $PPID").stdout)
    assert second != first and remote.run("echo ok").stdout == "ok\n"


def test_a_shell_that_dies_mid_script_is_an_unreachable_sut(remote):
    with pytest.raises(Unreachable, match="SSH session failed"):
        remote.run("kill -9 $PPID; sleep 2")
    assert not remote.alive()  # closed: the caller connects again


def test_a_script_that_outlasts_its_timeout_closes_the_connection(remote):
    with pytest.raises(Unreachable, match="timed out"):
        remote.run("sleep 5", timeout=0.5)
    assert not remote.alive()


def test_file_work_shares_one_sftp_session(remote, tmp_path):
    local = tmp_path / "f"
    local.write_text("data")
    remote.run("mkdir -p fp-shell-test")
    remote.put(local, "fp-shell-test/f")
    sessions = {remote.sftp(lambda s: id(s)) for _ in range(3)}
    remote.get("fp-shell-test/f", tmp_path / "back")
    assert len(sessions) == 1 and (tmp_path / "back").read_text() == "data"
    remote.run("rm -rf fp-shell-test")
