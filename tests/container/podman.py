"""podman for the container tests: a cached Debian base, the project's image, containers.

No registry can be reached here, so the base image is the lab recipe's
debootstrap base of `fastpath.benchmarks.images` (cached under a tag that
hashes the recipe). A missing podman or debootstrap raises, so the tests
fail rather than skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from fastpath.benchmarks.images import PODMAN_CONF

ROOT = Path(__file__).resolve().parents[2]
CERTS = "/etc/ssl/certs/ca-certificates.crt"
IMAGE = "localhost/fastpath-scheduler:test"
TOKEN = re.compile(r"^Created default admin user 'admin' with token: (\S+)$", re.M)


class Podman:
    """The podman command with the lab's configuration (CONTAINERS_CONF in `workdir`)."""

    def __init__(self, workdir: Path) -> None:
        if not shutil.which("podman"):
            raise RuntimeError("podman is missing: install the Debian package podman (scripts/bootstrap)")
        workdir.mkdir(parents=True, exist_ok=True)
        conf = workdir / "containers.conf"
        conf.write_text(PODMAN_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def __call__(self, *args: str, check: bool = True, timeout: float = 120,
                 **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(["podman", *args], env=self.env, text=True, capture_output=True,
                              timeout=timeout, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0

    def image_id(self, image: str) -> str | None:
        proc = self("image", "inspect", "--format", "{{.Id}}", image, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def build_project(self, base: str, tag: str = IMAGE) -> str:
        """Build the repository's Dockerfile on `base`; replace the previous build of `tag`."""
        # --format docker: the OCI format drops HEALTHCHECK; chroot isolation and the
        # host's network and CA bundle let pip reach the package index from a RUN step.
        out = self("build", "--isolation=chroot", "--network=host", "--format", "docker",
                   "-v", f"{CERTS}:{CERTS}:ro", "--build-arg", f"BASE={base}", "-t", tag, str(ROOT),
                   timeout=900).stdout
        this_build = set(re.findall(r"^--> (?:Using cache )?([0-9a-f]{12,64})", out, re.M))
        self.prune_builds_on(base, keep=this_build)
        return tag

    def prune_builds_on(self, base: str, keep: set[str]) -> None:
        """Remove untagged images on `base` (earlier builds' layers) except this build's cache.

        Only these tests build on the hashed base, so nobody else's images are touched;
        without this every change of the sources leaves ~130 MB of layers behind.
        """
        base_layer = self.inspect("image", base)["RootFS"]["Layers"][0]
        dangling = [i.removeprefix("sha256:") for i in
                    self("images", "--quiet", "--no-trunc", "--filter", "dangling=true").stdout.split()]
        dangling = [i for i in dangling if not any(i.startswith(k) for k in keep)]
        if not dangling:
            return
        docs = json.loads(self("image", "inspect", *dangling, check=False).stdout or "[]")
        old = {d["Id"].removeprefix("sha256:") for d in docs if d["RootFS"]["Layers"][:1] == [base_layer]}
        for image in dangling:  # newest first: children go before their parents
            if image in old:
                self("rmi", image, check=False)

    def inspect(self, what: str, name: str) -> dict:
        [doc] = json.loads(self(what, "inspect", name).stdout)
        return doc

    def remove(self, *containers: str) -> None:
        for name in containers:
            self("rm", "--force", "--time", "0", name, check=False)

    def logs(self, container: str) -> tuple[str, str]:
        proc = self("logs", container, check=False)
        return proc.stdout, proc.stderr


def wait_healthz(url: str, alive=lambda: True, timeout: float = 90.0) -> None:
    """Poll `url`/healthz until it answers 200; fail early when `alive()` turns false."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise AssertionError(f"the scheduler stopped before {url} answered")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url}/healthz did not answer within {timeout}s: {last}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
