"""One local test SUT: an OpenSSH server on a loopback address with simulated boots.

With `simulate_boot`, its sshd runs in private mount and UTS namespaces where
its own boot id, kernel command line and kernel release are bind-mounted over
the real ones, /lib/modules and /boot are empty tmpfs, and harmless stubs
replace the commands that could take this machine down (reboot, kexec,
systemctl, shutdown, poweroff): a call is recorded in `stub-calls.log`
instead. /etc/machine-id is never touched, so the scheduler can recognise
that this SUT is its own host. A "boot" kills every process of the previous
one (its namespace and their descendants) and starts a new sshd.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastpath.benchmarks.images import PODMAN_CONF

SSHD = "/usr/sbin/sshd"
DANGEROUS = ("/usr/sbin/reboot", "/usr/sbin/kexec", "/usr/bin/systemctl", "/usr/sbin/shutdown",
             "/usr/sbin/poweroff", "/usr/sbin/halt", "/sbin/reboot", "/sbin/kexec",
             "/sbin/shutdown", "/sbin/poweroff", "/bin/systemctl")
CONTAINERS_CONF = PODMAN_CONF  # runc and cgroupfs: crun fails here on cgroups and RLIMIT_NOFILE


class TestbedError(Exception):
    """The testbed cannot do what was asked on this machine."""


def require_sshd() -> None:
    if not os.access(SSHD, os.X_OK):
        raise TestbedError(f"{SSHD} is missing: install the Debian package openssh-server")


@dataclass
class TestSut:
    name: str
    host: str
    port: int
    user: str
    keyfile: Path
    dir: Path
    simulate_boot: bool = True
    boot_delay: float = 1.0

    __test__ = False  # not a pytest test class

    # --- state files ---------------------------------------------------------

    def _file(self, name: str) -> Path:
        return self.dir / name

    def _read(self, name: str, default: str = "") -> str:
        try:
            return self._file(name).read_text().strip()
        except FileNotFoundError:
            return default

    def _write(self, name: str, text: str) -> None:
        tmp = self._file(name + ".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, self._file(name))

    @property
    def boot_id(self) -> str:
        return self._read("boot_id")

    @property
    def cmdline(self) -> str:
        return self._read("cmdline")

    @property
    def osrelease(self) -> str:
        return self._read("osrelease")

    def stub_calls(self) -> list[str]:
        return self._read("stub-calls.log").splitlines()

    # --- set-up ----------------------------------------------------------------

    def prepare(self, authorized_keys: Path) -> None:
        """Write its configuration (host key kept across restarts)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self._file("hostkey").exists():
            self.new_host_key()
        (self._file("containers.conf")).write_text(CONTAINERS_CONF)
        self._file("sshd_config").write_text("\n".join([
            f"ListenAddress {self.host}:{self.port}",
            f"HostKey {self.dir}/hostkey",
            f"PidFile {self.dir}/sshd.pid",
            # a lessee's key goes into the SUT's own home, private to its mount namespace
            f"AuthorizedKeysFile {authorized_keys}"
            + (" .ssh/authorized_keys" if self.simulate_boot else ""),
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
            f"SetEnv CONTAINERS_CONF={self.dir}/containers.conf",
            "",
        ]))
        stub = self._file("stub")
        stub.write_text(f'#!/bin/sh\necho "$0 $*" >> {self.dir}/stub-calls.log\nexit 0\n')
        stub.chmod(0o755)
        self._file("home").mkdir(exist_ok=True)
        if not self._file("orig_cmdline").exists():
            self._write("orig_cmdline", "BOOT_IMAGE=/vmlinuz-testbed root=/dev/testbed ro quiet")
            self._write("orig_osrelease", os.uname().release + "-testbed")
        if not self._file("boot_id").exists():
            self._boot_values(kernel="", cmdline="", release="")

    def new_host_key(self) -> None:
        for suffix in ("", ".pub"):
            self._file("hostkey" + suffix).unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self._file("hostkey")),
                        "-C", f"{self.name}-host"], check=True)

    def fail_boots(self, enabled: bool = True) -> None:
        if enabled:
            self._write("fail-boots", "a kernel that never comes back")
        else:
            self._file("fail-boots").unlink(missing_ok=True)

    def _boot_values(self, *, kernel: str, cmdline: str, release: str) -> None:
        self._write("boot_id", str(uuid.uuid4()))
        if kernel:
            self._write("cmdline", cmdline or self._read("orig_cmdline"))
            self._write("osrelease", release or self._read("orig_osrelease"))
        else:
            self._write("cmdline", self._read("orig_cmdline"))
            self._write("osrelease", self._read("orig_osrelease"))

    # --- running ---------------------------------------------------------------

    def pid(self) -> int | None:
        text = self._read("sshd.pid")
        if not text.isdigit():
            return None
        pid = int(text)
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"sshd" in cmd and str(self.dir).encode() in cmd else None

    def is_running(self) -> bool:
        return self.pid() is not None and self._answers()

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 15.0) -> None:
        """Start its sshd (idempotent); return once the port accepts connections."""
        require_sshd()
        if self.pid() is not None:
            self._wait_port(timeout)
            return
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        sshd = [SSHD, "-f", str(self._file("sshd_config")), "-E", str(self._file("sshd.log"))]
        if self.simulate_boot:
            if os.geteuid() != 0:
                raise TestbedError("simulated boots need root (mount namespaces); "
                                   "use simulate_boot=False")
            argv = ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c",
                    self._namespace_script(sshd)]
        else:
            argv = sshd
        done = subprocess.run(argv, capture_output=True, text=True, start_new_session=True)
        if done.returncode != 0:
            raise TestbedError(f"{self.name}: sshd did not start: {done.stderr.strip()}")
        self._wait_port(timeout)

    def _namespace_script(self, sshd: list[str]) -> str:
        """Set the namespace up, failing closed: sshd starts only if every step worked."""
        d = self.dir
        home = pwd.getpwnam(self.user).pw_dir
        stubs = " ".join(DANGEROUS)
        names = " ".join(sorted({Path(c).name for c in DANGEROUS}))
        return f"""set -e
mount --bind {d}/boot_id /proc/sys/kernel/random/boot_id
mount --bind {d}/cmdline /proc/cmdline
mount --bind {d}/osrelease /proc/sys/kernel/osrelease
for m in /lib/modules /boot; do if [ -d $m ]; then mount -t tmpfs none $m; fi; done
for c in {stubs}; do if [ -e $c ]; then mount --bind {d}/stub $c; fi; done
mount -t tmpfs none /usr/local/sbin
for n in {names}; do cp {d}/stub /usr/local/sbin/$n; done
# a home of its own, as a separate machine has: job directories of test SUTs that share a
# name in two test runs stay apart, and this machine's ~/.bashrc (pyenv rehash can wait a
# minute there on a lock that a killed session left behind) is not run at each login
mount --bind {d}/home {home}
hostname {self.name}
exec {' '.join(sshd)}
"""

    def _wait_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._answers():
            if time.monotonic() > deadline:
                log = self._read("sshd.log")[-500:]
                raise TestbedError(f"{self.name}: {self.host}:{self.port} not answering: {log}")
            time.sleep(0.05)

    def _boot_processes(self) -> list[int]:
        """Every process of the current boot: its namespace, and their descendants."""
        pid = self.pid()
        if pid is None:
            return []
        if not self.simulate_boot:
            return [pid]
        try:
            ns = os.readlink(f"/proc/{pid}/ns/mnt")
        except OSError:
            return [pid]
        members: set[int] = set()
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == ns:
                    members.add(int(entry))
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
        todo, out = list(members), set(members)
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return sorted(out)

    def _cancel_boot(self) -> None:
        """Cancel a boot still pending from a power cycle, so that nothing starts after a stop."""
        text = self._read("boot.pid")
        if text.isdigit() and int(text) != os.getpid():
            try:
                cmd = Path(f"/proc/{text}/cmdline").read_bytes()
                if b"fastpath.testbed" in cmd and str(self.dir.parent).encode() in cmd:
                    os.kill(int(text), signal.SIGKILL)
            except OSError:
                pass
        self._file("boot.pid").unlink(missing_ok=True)

    def stop(self) -> None:
        """Switch the SUT off: its sshd and every process of its current boot (and a pending boot)."""
        self._cancel_boot()
        for pid in self._boot_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self._answers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._file("sshd.pid").unlink(missing_ok=True)

    def kill_sessions(self) -> int:
        """Drop every live SSH connection; the listener and detached processes stay."""
        pid = self.pid()
        if pid is None:
            return 0
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        killed = 0
        for child in out.split():
            try:
                os.kill(int(child), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def power_cycle(self, *, kernel: str = "", cmdline: str = "", release: str = "",
                    delay: float | None = None) -> None:
        """Cut the power and boot again after `delay` s (returns at once, as a PDU does)."""
        self.stop()
        if kernel and self._file("fail-boots").exists():
            return  # a kernel that never comes back
        self._boot_values(kernel=kernel, cmdline=cmdline, release=release)
        delay = self.boot_delay if delay is None else delay
        with open(self._file("boot.log"), "a") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "fastpath.testbed", "boot", "--root", str(self.dir.parent),
                 "--name", self.name, "--delay", str(delay)],
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log)
        self._write("boot.pid", str(child.pid))  # a stop cancels it (`_cancel_boot`)
        # reaped in the background: the caller goes on at once, as after a PDU's power cycle
        threading.Thread(target=child.wait, daemon=True).start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
