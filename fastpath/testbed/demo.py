"""`python -m fastpath.testbed.demo --into DIR`: the demo's plan, with stand-in kernel files.

The demo's SUTs boot by the testbed's simulated power cycle, which presents
the swprofile's kernel release and command line without running the kernel:
a small file stands in for the kernel image, and a modules archive holds
just the `lib/modules/<release>/` tree that tells the expected release. Two
swprofiles, so that `fastpath result show` has something to compare.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import click
import yaml

SWPROFILES = {"baseline": "6.19.0-demo-baseline", "candidate": "6.19.0-demo-candidate"}


def modules_archive(path: Path, release: str) -> None:
    with tarfile.open(path, "w:xz") as tar:
        data = f"stand-in module for {release}\n".encode()
        info = tarfile.TarInfo(f"lib/modules/{release}/kernel/demo.ko")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def plan(into: Path) -> Path:
    """Write the stand-in files and `demo-plan.yaml` into `into` (kept if they exist)."""
    into.mkdir(parents=True, exist_ok=True)
    swprofiles = []
    for name, release in SWPROFILES.items():
        kernel, modules = into / f"Image-{name}", into / f"modules-{name}.tar.xz"
        if not kernel.exists():
            kernel.write_text(f"stand-in kernel image {release}\n")
        if not modules.exists():
            modules_archive(modules, release)
        swprofiles.append({"name": name, "kernel": kernel.name, "modules": modules.name,
                           "cmdline": [f"fastpath.demo={name}"]})
    doc = {
        "sut": {"sutclass": "demo"},
        "swprofiles": swprofiles,
        "benchmarks": [{"include": "testing/busyloop.yaml"}],
        "defaults": {"benchmark": {"warmups": 1, "repeats": 3, "sessions": 2, "timeout": "5m"}},
    }
    path = into / "demo-plan.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@click.command()
@click.option("--into", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the plan and its stand-in files.")
def main(into: Path) -> None:
    """Write the demo plan and its stand-in kernel and modules files."""
    click.echo(f"Demo plan: {plan(into)}")


if __name__ == "__main__":
    main()
