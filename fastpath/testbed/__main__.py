"""`python -m fastpath.testbed start|stop|status|power-cycle|boot|vm-*`: the testbed's commands.

`power-cycle` is what a test SUT class names as its `power_cycle` command: it
returns at once, and the SUT comes back after the testbed's boot delay.
`vm-build|vm-start|vm-stop|vm-power-cycle` do the same for the QEMU guest
that really boots kernels (`fastpath.testbed.vm`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from fastpath.testbed import Testbed, TestbedError


@click.group()
def main() -> None:
    """Local test SUTs: OpenSSH servers on loopback addresses with simulated boots."""


root_option = click.option("--root", required=True, type=click.Path(path_type=Path),
                           help="Directory holding the testbed's state.")


@main.command()
@root_option
@click.option("--count", default=2, show_default=True)
@click.option("--prefix", default="demo", show_default=True)
@click.option("--first-address", default="127.0.1.1", show_default=True)
@click.option("--first-port", default=2201, show_default=True)
@click.option("--boot-delay", default=1.0, show_default=True)
@click.option("--no-simulate-boot", is_flag=True, help="Plain sshd, no namespaces (no root needed).")
@click.option("--sutclasses", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a sutclasses.yaml for these SUTs here.")
@click.option("--sutclass", default="demo", show_default=True)
def start(root, count, prefix, first_address, first_port, boot_delay, no_simulate_boot, sutclasses,
          sutclass) -> None:
    """Start the test SUTs (idempotent)."""
    bed = Testbed(root, count, prefix=prefix, first_address=first_address, first_port=first_port,
                  simulate_boot=not no_simulate_boot, boot_delay=boot_delay)
    bed.start()
    if sutclasses:
        bed.write_sutclasses(sutclasses, sutclass,
                             boot="power_cycle" if not no_simulate_boot else "none")
    for sut in bed.suts:
        click.echo(f"{sut.name} {sut.host} {sut.port} {sut.user}")


@main.command()
@root_option
def stop(root) -> None:
    """Stop every test SUT of the testbed."""
    Testbed.load(root).stop()


@main.command()
@root_option
def status(root) -> None:
    """Show whether each test SUT answers."""
    for sut in Testbed.load(root).suts:
        click.echo(f"{sut.name} {sut.host}:{sut.port} {'up' if sut.is_running() else 'down'}")


@main.command("power-cycle")
@root_option
@click.option("--name", required=True)
@click.option("--kernel", default="")
@click.option("--cmdline", default="")
@click.option("--release", default="")
def power_cycle(root, name, kernel, cmdline, release) -> None:
    """Cut a SUT's power and boot it (into KERNEL, or its own kernel when empty)."""
    Testbed.load(root).sut(name).power_cycle(kernel=kernel, cmdline=cmdline, release=release)


@main.command(hidden=True)
@root_option
@click.option("--name", required=True)
@click.option("--delay", type=float, default=1.0)
def boot(root, name, delay) -> None:
    """(internal) Wait, then start the SUT: the end of a power cycle."""
    time.sleep(delay)
    Testbed.load(root).sut(name).start()


@main.command("vm-build")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where built images are kept (default: /var/cache/fastpath-testvm).")
def vm_build(cache) -> None:
    """Build the QEMU guest image (cached by recipe); print its directory."""
    from fastpath.testbed import vm

    click.echo(vm.build(cache or vm.CACHE, log=lambda m: click.echo(m, err=True)).dir)


@main.command("vm-start")
@root_option
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Forwarded SSH port (default: a free one).")
@click.option("--sutclasses", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a sutclasses.yaml with a kexec class for the guest here.")
@click.option("--no-wait", is_flag=True, help="Return at once instead of waiting for SSH.")
def vm_start(root, cache, host, port, sutclasses, no_wait) -> None:
    """Build (if needed) and start the QEMU guest; print its name, host, port and key."""
    from fastpath.testbed import vm

    image = vm.build(cache or vm.CACHE, log=lambda m: click.echo(m, err=True))
    guest = vm.VirtualSut(root, image, host=host, port=port)
    guest.start()
    if not no_wait:
        guest.wait_ssh()
    if sutclasses:
        guest.write_sutclasses(sutclasses)
    click.echo(f"{guest.name} {guest.host} {guest.port} root {guest.keyfile}")


@main.command("vm-stop")
@root_option
def vm_stop(root) -> None:
    """Stop the QEMU guest (its power is cut)."""
    from fastpath.testbed import vm

    vm.VirtualSut.load(root).stop()


@main.command("vm-power-cycle")
@root_option
@click.option("--name", default="", help="Ignored: the root names the guest.")
def vm_power_cycle(root, name) -> None:
    """Cut the guest's power and start it again on its own kernel; returns at once."""
    from fastpath.testbed import vm

    vm.VirtualSut.load(root).power_cycle()


if __name__ == "__main__":
    try:
        main()
    except TestbedError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
