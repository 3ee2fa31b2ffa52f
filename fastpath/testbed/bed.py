"""A set of local test SUTs sharing one scheduler key, and the SUT classes file for them."""

from __future__ import annotations

import getpass
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import yaml

from fastpath.testbed.sut import TestSut


class Testbed:
    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, count: int = 2, *, prefix: str = "demo",
                 first_address: str = "127.0.1.1", first_port: int = 2201,
                 simulate_boot: bool = True, boot_delay: float = 1.0) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = dict(count=count, prefix=prefix, first_address=first_address,
                           first_port=first_port, simulate_boot=simulate_boot, boot_delay=boot_delay)
        (self.root / "testbed.json").write_text(json.dumps(self.config, indent=1))
        self.keyfile = self.root / "id_ed25519"
        self.authorized_keys = self.root / "authorized_keys"
        first = ipaddress.ip_address(first_address)
        self.suts = [
            TestSut(name=f"{prefix}-{i + 1:02d}", host=str(first + i), port=first_port + i,
                    user=getpass.getuser(), keyfile=self.keyfile,
                    dir=self.root / f"{prefix}-{i + 1:02d}", simulate_boot=simulate_boot,
                    boot_delay=boot_delay)
            for i in range(count)
        ]

    @classmethod
    def load(cls, root: Path) -> Testbed:
        """The testbed a previous process set up under `root`."""
        config = json.loads((Path(root) / "testbed.json").read_text())
        return cls(root, **config)

    def sut(self, name: str) -> TestSut:
        for sut in self.suts:
            if sut.name == name:
                return sut
        raise KeyError(f"no test SUT named {name!r}")

    def _keys(self) -> None:
        if not self.keyfile.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.keyfile),
                            "-C", "fastpath-testbed"], check=True)
        pub = self.keyfile.with_suffix(".pub").read_text().strip()
        # only from loopback: the key opens a login on this machine
        self.authorized_keys.write_text(f'from="127.0.0.0/8" {pub}\n')
        self.authorized_keys.chmod(0o600)

    def start(self) -> None:
        self._keys()
        for sut in self.suts:
            sut.prepare(self.authorized_keys)
            sut.start()

    def stop(self) -> None:
        for sut in self.suts:
            sut.stop()

    def power_cycle_command(self) -> list[str]:
        return [sys.executable, "-m", "fastpath.testbed", "power-cycle", "--root", str(self.root),
                "--name", "{name}", "--kernel", "{kernel}", "--cmdline", "{cmdline}",
                "--release", "{release}"]

    def sutclasses(self, sutclass: str = "demo", *, boot: str = "power_cycle", suts=None,
                   **params) -> list[dict]:
        """A sutclasses.yaml document with one class of these SUTs (static provider)."""
        class_params: dict = {"boot": boot, "container_runtime": "podman"}
        if boot == "power_cycle":
            class_params["power_cycle"] = self.power_cycle_command()
        if self.config["simulate_boot"]:  # each SUT's home is its own, in its mount namespace
            class_params["lessee_keys_on_own_host"] = True
        class_params.update(params)
        class_params["suts"] = [
            {"name": s.name, "connection": {"method": "SSH", "params": {
                "host": s.host, "port": s.port, "user": s.user, "keyfile": str(self.keyfile)}}}
            for s in (suts if suts is not None else self.suts)
        ]
        return [{"sutclass": sutclass, "type": "static", "params": class_params}]

    def write_sutclasses(self, path: Path, sutclass: str = "demo", **kw) -> Path:
        path.write_text(yaml.safe_dump(self.sutclasses(sutclass, **kw), sort_keys=False))
        return path
