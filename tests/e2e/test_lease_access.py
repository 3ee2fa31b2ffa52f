"""The lessee's own SSH key on a leased SUT, and never an unreachable SUT, with the real
scheduler, the real CLI, OpenSSH and real sshd SUTs. The SUTs' homes are private to their
mount namespaces (testbed), so this machine's own authorized_keys is never written."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

TAG = "fastpath-lease-"
OTHERS = ("# a line of the lab's own\n"
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherPersonsKey00000000000000000000000 x@y\n")


@pytest.fixture(scope="module")
def key(lease_lab):
    """The lessee's key pair in the CLI's HOME: the default `lease-acquire` takes."""
    ssh = lease_lab.home / ".ssh"
    ssh.mkdir(exist_ok=True)
    if not (ssh / "id_ed25519").exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "id_ed25519"),
                        "-C", "bob@laptop"], check=True)
    return ssh / "id_ed25519"


def authorized(testbed, name: str):
    """The SUT's own ~/.ssh/authorized_keys (its home is a directory of the testbed)."""
    return testbed.sut(name).dir / "home" / ".ssh" / "authorized_keys"


def lease(s, lease_id: int) -> dict:
    return json.loads(s.cli("sched", "lease-list", str(lease_id), "--json").stdout)["lease"]


def raw_ssh(sut, key) -> subprocess.CompletedProcess:
    """A person's own OpenSSH login with the key, nothing else offered."""
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
         "-p", str(sut.port), f"{sut.user}@{sut.host}", "cat /proc/sys/kernel/hostname"],
        capture_output=True, text=True, timeout=30)


def acquire(s, *args) -> dict:
    return json.loads(s.cli("sched", "lease-acquire", *args, "--wait", "--json").stdout)["lease"]


def seed(testbed, name: str) -> None:
    path = authorized(testbed, name)
    path.parent.mkdir(exist_ok=True)
    text = path.read_text() if path.exists() else ""
    if OTHERS not in text:
        path.write_text(OTHERS + text)


def test_the_key_works_during_the_lease_and_not_after_release(lab, testbed, key, wait_until):
    for name in ("sut-01", "sut-02"):
        seed(testbed, name)
    got = acquire(lab, "lab")
    name = got["sut"]["name"]
    fp = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True,
                        check=True).stdout.split()[1]
    assert got["ssh_key_fingerprint"] == fp and got["ssh_key_note"] is None
    text = authorized(testbed, name).read_text()
    assert text.startswith(OTHERS)  # nobody else's line touched
    assert text.splitlines()[-1] == " ".join(key.with_suffix(".pub").read_text().split()[:2]) \
        + f" {TAG}{got['id']}"
    shown = lab.cli("sched", "lease-list", str(got["id"])).stdout
    assert f"Connect with your key: fastpath sched lease-ssh {got['id']}" in shown
    assert "SSH key:" in shown and fp in shown

    # lease-ssh: OpenSSH with the right host, port, user, checked against the SUT's host key
    out = lab.cli("sched", "lease-ssh", str(got["id"]), "--", "cat", "/proc/sys/kernel/hostname").stdout
    assert out.strip() == name
    doc = json.loads(lab.cli("sched", "lease-ssh", str(got["id"]), "--json", "--", "id", "-u").stdout)
    assert doc["exit_status"] == 0 and doc["stdout"].strip().isdigit()
    assert raw_ssh(testbed.sut(name), key).returncode == 0

    lab.cli("sched", "lease-release", str(got["id"]))
    wait_until(lambda: TAG not in authorized(testbed, name).read_text(), what="the key removed")
    assert authorized(testbed, name).read_text() == OTHERS  # exactly what was there before
    refused = raw_ssh(testbed.sut(name), key)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr
    after = lab.cli("sched", "lease-ssh", str(got["id"]), "--", "true", check=False)
    assert after.returncode == 5 and "is released" in after.stderr


def test_the_key_is_gone_after_expiry(lab, testbed, key, wait_until):
    got = acquire(lab, "quick", "--duration", "3s")
    name = got["sut"]["name"]
    assert raw_ssh(testbed.sut(name), key).returncode == 0
    wait_until(lambda: lease(lab, got["id"])["state"] == "expired", what="expiry")
    wait_until(lambda: TAG not in authorized(testbed, name).read_text(), what="the key removed")
    assert raw_ssh(testbed.sut(name), key).returncode == 255


def test_no_ssh_key_and_an_explicit_one(lab, testbed, key, tmp_path):
    none = acquire(lab, "lab", "--no-ssh-key")
    assert none["ssh_key_fingerprint"] is None
    assert TAG not in (authorized(testbed, none["sut"]["name"]).read_text())
    assert "Connect with your own lab credentials" in lab.cli("sched", "lease-list", str(none["id"])).stdout
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")],
                   check=True)
    other = acquire(lab, "lab", "--ssh-key", str(tmp_path / "other.pub"))
    assert raw_ssh(testbed.sut(other["sut"]["name"]), tmp_path / "other").returncode == 0
    assert raw_ssh(testbed.sut(other["sut"]["name"]), key).returncode == 255
    private = lab.cli("sched", "lease-acquire", "lab", "--ssh-key", str(tmp_path / "other"),
                      check=False)
    assert private.returncode == 2 and "expected the public key (a .pub file)" in private.stderr


def test_sigkill_between_release_and_removal_leaves_no_key(lab, testbed, key, tmp_path, wait_until):
    markers = tmp_path / "markers"
    markers.mkdir()
    lab.stop(signal.SIGKILL)
    lab.start(env={"FASTPATH_TUNING": lab.tuning, "FASTPATH_FAILPOINTS": "before-key-removal",
                   "FASTPATH_FAILPOINT_DIR": str(markers)})
    try:
        got = acquire(lab, "lab")
        name = got["sut"]["name"]
        lab.cli("sched", "lease-release", str(got["id"]))
        wait_until(lambda: (markers / "before-key-removal").exists(), what="the removal about to run")
        assert f"{TAG}{got['id']}" in authorized(testbed, name).read_text()  # released, key still there
    finally:
        lab.stop(signal.SIGKILL)
        lab.start(env={"FASTPATH_TUNING": lab.tuning})
    wait_until(lambda: TAG not in authorized(testbed, name).read_text(), timeout=60,
               what="the key removed after the restart")
    assert raw_ssh(testbed.sut(name), key).returncode == 255


def test_a_sut_whose_sshd_stopped_listening_is_not_granted(lab, testbed, key, wait_until):
    first = acquire(lab, "lab")
    held = first["sut"]["name"]
    victim = testbed.sut("sut-02" if held == "sut-01" else "sut-01")
    pid = victim.pid()
    assert pid is not None
    os.kill(pid, signal.SIGTERM)  # the listener only: connections already open keep working
    try:
        out = lab.cli("sched", "lease-acquire", "lab", "--json").stdout
        waiting = json.loads(out)["lease"]
        detail = lab.client(lab.admin_token())

        def health():
            suts = detail.get("/sutclasses/lab")["sutclass"]["suts"]
            return {x["name"]: x["health"] for x in suts}[victim.name]

        wait_until(lambda: health() == "unhealthy", timeout=30, what="the SUT noticed")
        assert lease(lab, waiting["id"])["state"] == "queued"
    finally:
        victim.stop()
        victim.start()
    wait_until(lambda: lease(lab, waiting["id"])["state"] == "acquired", timeout=60,
               what="the lease served once the SUT is back")
    assert lease(lab, waiting["id"])["sut"]["name"] == victim.name
