"""A virtual SUT that really boots kernels: a Debian guest under QEMU, reached over loopback.

The guest image is built by `scripts/build-testvm` from Debian packages
(debootstrap, two kernels unpacked with dpkg-deb, the busyloop benchmark
image preloaded into podman's storage) and cached outside the source tree,
keyed by a hash of its recipe. Each `VirtualSut` boots the cached image
through a qcow2 overlay of its own, so the cache is never written by a guest.

The guest has its own machine id, so the scheduler's guard lets it install
and kexec kernels there; nothing else in the test lab may really boot.
QEMU runs with software emulation (`-accel tcg`: kvm hangs on the lab's
machines) and user networking restricted to one forwarded loopback port.
A "power cycle" kills QEMU and starts it again on the guest's own kernel.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from fastpath.testbed.sut import TestbedError

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "build-testvm"
BUSYLOOP = REPO / "fastpath" / "benchmarks" / "containers" / "busyloop" / "run.sh"
CACHE = Path(os.environ.get("FASTPATH_TESTVM_CACHE", "/var/cache/fastpath-testvm"))
# The guest's own kernel, and a second one that only a swprofile brings (both from bookworm).
OWN_KERNEL = "6.1.0-50-amd64"
OTHER_KERNEL = "6.1.0-56-amd64"
BASE_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
QEMU = "qemu-system-x86_64"
BOOT_LOG = "/var/log/fastpath-boots.log"  # the guest appends "boot_id release cmdline" each boot


@dataclass(frozen=True)
class Image:
    """A built guest image in the cache: its disk, its kernels and the key root accepts."""

    dir: Path
    own: str = OWN_KERNEL
    other: str = OTHER_KERNEL

    @property
    def rootfs(self) -> Path:
        return self.dir / "rootfs.img"

    @property
    def keyfile(self) -> Path:
        return self.dir / "id_ed25519"

    def kernel(self, release: str) -> Path:
        return self.dir / f"vmlinuz-{release}"

    def initrd(self, release: str) -> Path:
        return self.dir / f"initrd.img-{release}"

    def modules(self, release: str) -> Path:
        return self.dir / f"modules-{release}.tar.xz"


def recipe_key(own: str = OWN_KERNEL, other: str = OTHER_KERNEL) -> str:
    """What the image is made of: the build script, the kernels and the benchmark."""
    h = hashlib.sha256()
    for part in (BUILD_SCRIPT.read_bytes(), own.encode(), other.encode(), BUSYLOOP.read_bytes()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def require_tools() -> None:
    for tool, package in ((QEMU, "qemu-system-x86"), ("qemu-img", "qemu-utils"),
                          ("debootstrap", "debootstrap"), ("podman", "podman")):
        if not shutil.which(tool):
            raise TestbedError(f"{tool} is missing: install the Debian package {package} "
                               "(scripts/bootstrap test)")


def build(cache: Path = CACHE, own: str = OWN_KERNEL, other: str = OTHER_KERNEL,
          log=lambda msg: None) -> Image:
    """The cached guest image for this recipe, built first if missing (minutes, once)."""
    require_tools()
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    image = Image(cache / recipe_key(own, other), own, other)
    with open(cache / ".lock", "w") as lock:  # two test runs build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (image.dir / "done").exists():
            return image
        from fastpath.benchmarks.images import _podman, build_busyloop

        log(f"building the test VM image in {image.dir} (a few minutes)")
        work = image.dir.with_name(image.dir.name + ".tmp")
        shutil.rmtree(work, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            tar = Path(tmp) / "busyloop.tar"
            _podman("save", "-q", "-o", str(tar), build_busyloop(), check=True, capture_output=True)
            done = subprocess.run([str(BUILD_SCRIPT), str(work), own, other, str(tar)],
                                  capture_output=True, text=True)
        if done.returncode != 0:
            raise TestbedError(f"building the test VM failed ({done.returncode}):\n"
                               f"{done.stderr[-3000:]}")
        (work / "done").write_text(json.dumps({"own": own, "other": other, "at": time.time()}))
        shutil.rmtree(image.dir, ignore_errors=True)
        os.replace(work, image.dir)
        for old in cache.iterdir():  # images of earlier recipes: a couple of GB each
            if old.is_dir() and old != image.dir and len(old.name) == 16 and not old.suffix:
                shutil.rmtree(old, ignore_errors=True)
    return image


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class VirtualSut:
    """One QEMU guest under `root`, its state kept there for the power-cycle command."""

    __test__ = False

    def __init__(self, root: Path, image: Image, *, name: str = "vm-01", host: str = "127.0.0.1",
                 port: int | None = None, memory: int = 1024, cpus: int = 2) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.image, self.name, self.host = image, name, host
        self.port = port or free_port(host)
        self.memory, self.cpus = memory, cpus
        (self.root / "vm.json").write_text(json.dumps(dict(
            image=str(image.dir), own=image.own, other=image.other, name=name, host=host,
            port=self.port, memory=memory, cpus=cpus), indent=1))

    @classmethod
    def load(cls, root: Path) -> VirtualSut:
        c = json.loads((Path(root) / "vm.json").read_text())
        image = Image(Path(c.pop("image")), c.pop("own"), c.pop("other"))
        return cls(root, image, **c)

    @property
    def disk(self) -> Path:
        return self.root / "disk.qcow2"

    @property
    def console(self) -> Path:
        return self.root / "console.log"

    @property
    def keyfile(self) -> Path:
        return self.image.keyfile

    def argv(self) -> list[str]:
        own = self.image.own
        return [QEMU, "-accel", "tcg", "-m", str(self.memory), "-smp", str(self.cpus),
                "-name", f"fastpath-{self.name}", "-display", "none", "-monitor", "none",
                "-chardev", f"file,id=con0,path={self.console},append=on", "-serial", "chardev:con0",
                "-kernel", str(self.image.kernel(own)), "-initrd", str(self.image.initrd(own)),
                "-append", BASE_CMDLINE,
                "-drive", f"file={self.disk},if=virtio,format=qcow2",
                "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:{self.host}:{self.port}-:22",
                "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci",
                "-pidfile", str(self.root / "qemu.pid"), "-daemonize"]

    def pid(self) -> int | None:
        try:
            pid = int((self.root / "qemu.pid").read_text().strip())
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.disk).encode() in cmd else None  # our QEMU, not a reused pid

    def start(self) -> None:
        """Power it on (on its own kernel); returns at once, SSH answers some 30 s later."""
        require_tools()
        if self.pid() is not None:
            return
        if not self.disk.exists():  # the guest writes its overlay, never the cached image
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                            str(self.image.rootfs), str(self.disk)], check=True)
        done = subprocess.run(self.argv(), capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise TestbedError(f"{self.name}: QEMU did not start: {done.stderr.strip()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Cut its power: SIGKILL to our QEMU, as a PDU would."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def power_cycle(self) -> None:
        """What the class's `power_cycle` command does: off, then on into its own kernel."""
        self.stop()
        self.start()

    def target(self):
        from fastpath.sut.remote import Target

        return Target(self.name, self.host, self.port, "root", str(self.keyfile))

    def ssh(self, script: str, timeout: float = 60.0) -> str:
        """Run a shell script on the guest as root; its standard output."""
        from fastpath.sut.remote import Remote

        remote = Remote.connect(self.target(), timeout=10, attempts=1)
        try:
            return remote.run(script, timeout=timeout).stdout
        finally:
            remote.close()

    def wait_ssh(self, timeout: float = 180.0) -> str:
        """Wait until the guest answers over SSH; its boot id."""
        from fastpath.sut.remote import SshError

        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.ssh("cat /proc/sys/kernel/random/boot_id", timeout=15).strip()
            except SshError as exc:
                if self.pid() is None:
                    raise TestbedError(f"{self.name}: QEMU is not running; console:\n"
                                       f"{self.console_tail()}") from exc
                if time.monotonic() > deadline:
                    raise TestbedError(f"{self.name}: no SSH after {timeout:g}s ({exc.message}); "
                                       f"console:\n{self.console_tail()}") from exc
                time.sleep(1.0)

    def boots(self) -> list[tuple[str, str, str]]:
        """Every boot of the guest that reached userspace: (boot id, release, cmdline)."""
        out = self.ssh(f"cat {BOOT_LOG} 2>/dev/null || true")
        rows = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3:
                rows.append((parts[0], parts[1], parts[2]))
        return rows

    def console_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no console log)"

    def power_cycle_command(self) -> list[str]:
        import sys

        return [sys.executable, "-m", "fastpath.testbed", "vm-power-cycle", "--root", str(self.root)]

    def sutclasses(self, sutclass: str = "vm", *, boot_timeout: str = "120s", **params) -> list[dict]:
        """A sutclasses.yaml document with one kexec class holding this guest."""
        class_params = {"boot": "kexec", "boot_timeout": boot_timeout, "container_runtime": "podman",
                        "base_cmdline": BASE_CMDLINE, "power_cycle": self.power_cycle_command(),
                        **params}
        class_params["suts"] = [{"name": self.name, "connection": {"method": "SSH", "params": {
            "host": self.host, "port": self.port, "user": "root", "keyfile": str(self.keyfile)}}}]
        return [{"sutclass": sutclass, "type": "static", "params": class_params}]

    def write_sutclasses(self, path: Path, sutclass: str = "vm", **kw) -> Path:
        path.write_text(yaml.safe_dump(self.sutclasses(sutclass, **kw), sort_keys=False))
        return path
