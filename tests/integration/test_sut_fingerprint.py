"""`fastpath sut fingerprint` against the testbed's real OpenSSH SUTs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastpath.cli import main

FASTPATH = str(Path(sys.executable).parent / "fastpath")


@pytest.fixture
def sut(testbed):
    sut = testbed.suts[0]
    sut.start()
    return sut


@pytest.fixture
def known(tmp_path) -> Path:
    return tmp_path / "known_hosts"


def run(*args: str):
    return CliRunner().invoke(main, ["sut", "fingerprint", *args])


def conn(sut, known: Path, *extra: str) -> list[str]:
    return ["--port", str(sut.port), "--user", sut.user, "--keyfile", str(sut.keyfile),
            "--known-hosts", str(known), *extra, sut.host]


def parse(text: str) -> dict:
    """The HW:/SW: text back into sections, checking its exact shape on the way."""
    sections: dict = {}
    current = None
    for line in text.splitlines():
        if line in ("HW:", "SW:"):
            current = sections.setdefault(line[:-1], {})
            continue
        assert current is not None and line.startswith("  ") and ": " in line, line
        key, value = line[2:].split(": ", 1)
        current[key] = value
    assert list(sections) == ["HW", "SW"]
    return sections


def host_name(sut) -> str:
    return f"[{sut.host}]:{sut.port}"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_prints_the_suts_hw_and_sw_and_records_its_key_on_accept_new(sut, known):
    first = run(*conn(sut, known, "--accept-new"))
    assert first.exit_code == 0, first.output
    facts = parse(first.stdout)
    assert facts["HW"]["host_name"] == sut.name  # the SUT's own UTS namespace, not this host's name
    assert facts["HW"]["architecture"] == os.uname().machine
    assert facts["HW"]["cpu_count"] == str(os.cpu_count())
    assert facts["SW"]["kernel_name"] == sut.osrelease  # the release the test SUT presents
    assert sut.osrelease.endswith("-testbed")
    assert f"permanently added '{host_name(sut)}'" in first.stderr
    assert known.read_text().startswith(host_name(sut) + " ssh-ed25519 ")

    again = run(*conn(sut, known))  # known now: no --accept-new needed, nothing added
    assert again.exit_code == 0, again.output
    assert parse(again.stdout) == facts
    assert again.stderr == ""
    assert len(known.read_text().splitlines()) == 1


def test_json_for_scripts(sut, known):
    result = run(*conn(sut, known, "--accept-new", "--json"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["HW"]["host_name"] == sut.name
    assert doc["HW"]["cpu_count"] == os.cpu_count()
    assert doc["SW"]["kernel_name"] == sut.osrelease


def test_an_unknown_host_is_refused_without_accept_new(sut, known):
    result = run(*conn(sut, known))
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert host_name(sut) in result.stderr and "--accept-new" in result.stderr
    assert "SHA256:" in result.stderr
    assert result.stdout == ""
    assert not known.exists()


def test_a_changed_host_key_is_refused_even_with_accept_new(sut, known, tmp_path):
    other = tmp_path / "otherhost"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, b64 = other.with_suffix(".pub").read_text().split()[:2]
    known.write_text(f"{host_name(sut)} {kind} {b64}\n")
    result = run(*conn(sut, known, "--accept-new"))
    assert result.exit_code == 1
    assert "host key changed" in result.stderr and "ssh-keygen" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert known.read_text() == f"{host_name(sut)} {kind} {b64}\n"  # never rewritten


def test_an_unreachable_port(sut, known):
    result = run("--port", str(free_port(sut.host)), "--keyfile", str(sut.keyfile),
                 "--known-hosts", str(known), "--accept-new", sut.host)
    assert result.exit_code == 6
    assert "cannot connect" in result.stderr and "connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_key_the_sut_does_not_know_is_refused(sut, known, tmp_path):
    wrong = tmp_path / "id_wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    result = run("--port", str(sut.port), "--keyfile", str(wrong), "--known-hosts", str(known),
                 "--accept-new", sut.host)
    assert result.exit_code == 3
    assert f"login as {sut.user} refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_keyfile_is_named_before_connecting(sut, known, tmp_path):
    missing = tmp_path / "nope" / "id_ed25519"
    result = run("--port", str(sut.port), "--keyfile", str(missing), "--known-hosts", str(known),
                 "--accept-new", sut.host)
    assert result.exit_code == 2
    assert result.stderr == f"Error: keyfile {missing}: no such file\n"
    assert not known.exists()  # it never got as far as the host key


def test_a_keyfile_that_is_no_key(sut, known, tmp_path):
    junk = tmp_path / "id_junk"
    junk.write_text("this is not a key\n")
    result = run(*["--port", str(sut.port), "--keyfile", str(junk), "--known-hosts", str(known),
                   "--accept-new", sut.host])
    assert result.exit_code == 2
    assert "not a private key" in result.stderr


def test_the_real_command_with_the_users_default_key_and_known_hosts(sut, tmp_path):
    """No --user, --keyfile or --known-hosts: the login name, ~/.ssh/id_* and ~/.ssh/known_hosts."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(sut.keyfile, home / ".ssh" / "id_ed25519")
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    env["HOME"] = str(home)
    argv = [FASTPATH, "sut", "fingerprint", "--port", str(sut.port), sut.host]

    refused = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3, refused.stderr
    assert "--accept-new" in refused.stderr

    done = subprocess.run([*argv[:-1], "--accept-new", sut.host], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    facts = parse(done.stdout)
    assert facts["HW"]["host_name"] == sut.name
    assert facts["SW"]["kernel_name"] == sut.osrelease
    assert (home / ".ssh" / "known_hosts").read_text().startswith(host_name(sut) + " ")

    (home / ".ssh" / "id_ed25519").unlink()  # no key left, and no agent: a clear refusal
    nokey = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert nokey.returncode == 3
    assert "no SSH key" in nokey.stderr
