"""Build the container images of the project's own benchmarks with podman.

    python -m fastpath.benchmarks.images build [busyloop sysbench stress-ng] [--base IMAGE] [--force]

`busyloop` needs no base image: it is imported from a busybox-static rootfs.
The others are built from their Dockerfiles (`containers/<suite>/`) on a
Debian base; where no registry can be reached, `ensure_base()` makes one
with debootstrap. Images that exist already are kept unless forced; a
Dockerfile image is rebuilt when its directory changed (a label records the
directory's digest), which podman's layer cache makes cheap: only the layers
after the change are built again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTAINERS = HERE / "containers"
IMAGES = {
    "busyloop": "localhost/fastpath-bench-busyloop:1",
    "sysbench": "localhost/fastpath-bench-sysbench:1",
    "stress-ng": "localhost/fastpath-bench-stress-ng:1",
}
# The lab recipe's Debian base (no registry here); its tag names the recipe, so a change rebuilds it.
BASE_RECIPE = ("debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
               "bookworm")
LOCAL_BASE = "localhost/fastpath-debian:bookworm-" + hashlib.sha256(
    " ".join(BASE_RECIPE).encode()).hexdigest()[:12]
SOURCE_LABEL = "org.fastpath.source"
PODMAN_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


def _env() -> dict:
    """podman with runc and cgroupfs, which work where crun and systemd cgroups do not."""
    if "CONTAINERS_CONF" in os.environ:
        return dict(os.environ)
    conf = Path(tempfile.gettempdir()) / "fastpath-podman.conf"
    conf.write_text(PODMAN_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def _podman(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], env=_env(), text=True, **kw)


def exists(image: str) -> bool:
    return _podman("image", "exists", image).returncode == 0


def source_digest(name: str) -> str:
    """A digest of `containers/<name>/`: its files' names and contents."""
    h = hashlib.sha256()
    root = CONTAINERS / name
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        data = path.read_bytes()
        h.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode() + data)
    return h.hexdigest()[:16]


def _label(image: str, label: str) -> str | None:
    done = _podman("image", "inspect", "--format", f'{{{{ index .Config.Labels "{label}" }}}}', image,
                   capture_output=True)
    return done.stdout.strip() if done.returncode == 0 else None


def build_busyloop(force: bool = False) -> str:
    image = IMAGES["busyloop"]
    if exists(image) and not force:
        return image
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        raise SystemExit("busybox is missing: install the Debian package busybox-static")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        (root / "bin").mkdir(parents=True)
        shutil.copy(busybox, root / "bin" / "busybox")
        for tool in ("sh", "sed", "awk", "cut", "head", "tr", "date", "sleep", "cat", "echo"):
            (root / "bin" / tool).symlink_to("busybox")
        (root / "tmp").mkdir()
        shutil.copy(CONTAINERS / "busyloop" / "run.sh", root / "run.sh")
        (root / "run.sh").chmod(0o755)
        tar = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True)
        _podman("import", "--change", 'ENTRYPOINT ["/bin/sh", "/run.sh"]',
                "--change", "ENV PATH=/bin", str(tar), image, check=True, capture_output=True)
    return image


def ensure_base(tag: str = LOCAL_BASE) -> str:
    """A Debian base image in local storage, made with debootstrap if missing."""
    if exists(tag):
        return tag
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap is missing: install the Debian package debootstrap")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        subprocess.run([*BASE_RECIPE, str(root)], check=True, stdout=subprocess.DEVNULL)
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            _podman("import", "-", tag, stdin=tar.stdout, check=True, capture_output=True)
    return tag


def build_dockerfile(name: str, base: str | None = None, force: bool = False) -> str:
    image = IMAGES[name]
    digest = source_digest(name)
    if not force and _label(image, SOURCE_LABEL) == digest:
        return image
    base = base or ensure_base()
    certs = "/etc/ssl/certs/ca-certificates.crt"
    args = ["build", "--isolation=chroot", "--network=host", "--build-arg", f"BASE={base}",
            "--label", f"{SOURCE_LABEL}={digest}", "-t", image]
    if os.path.exists(certs):
        args += ["-v", f"{certs}:{certs}:ro"]
    _podman(*args, str(CONTAINERS / name), check=True, capture_output=True)
    return image


def build(names: list[str], base: str | None = None, force: bool = False) -> list[str]:
    out = []
    for name in names:
        if name not in IMAGES:
            raise SystemExit(f"unknown image {name!r}; known: {', '.join(IMAGES)}")
        out.append(build_busyloop(force) if name == "busyloop" else build_dockerfile(name, base, force))
    return out


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fastpath.benchmarks.images")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build benchmark images with podman")
    b.add_argument("names", nargs="*", default=list(IMAGES))
    b.add_argument("--base", help=f"base image for Dockerfile builds (default: {LOCAL_BASE}, "
                                   "made with debootstrap if missing)")
    b.add_argument("--force", action="store_true", help="rebuild images that exist")
    args = parser.parse_args(argv)
    try:
        for image in build(args.names, args.base, args.force):
            print(image)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"building failed: {exc}\n{exc.stderr or ''}") from exc


if __name__ == "__main__":
    main(sys.argv[1:])
