"""Booting a SUT into a software profile, and checking that it did.

`kexec` and `reboot` stage files on the SUT and boot from there; the lab's
`power_cycle` command runs on the scheduler host instead and installs
nothing on the SUT. Each trigger returns at once: the caller records a
deadline and polls for SSH to come back, then `verify()` checks the boot id,
the kernel release and the command line.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from fastpath.errors import BootFailure
from fastpath.sut.remote import CommandFailed, Remote

DETACH = "setsid nohup sh -c {} > /dev/null 2>&1 < /dev/null &"


def sudo(uid: int | None) -> str:
    return "" if uid == 0 else "sudo -n "


def full_cmdline(base: str, extra: list[str], session: str) -> str:
    """The base command line, the swprofile's additions and the session marker."""
    return " ".join([*base.split(), *extra, f"fastpath.session={session}"])


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def stage(remote: Remote, files: dict[str, Path], into: str) -> list[str]:
    """Upload files (name -> local path) into `into`, skipping those already there by digest.

    Returns the names actually uploaded.
    """
    names = " ".join(shlex.quote(n) for n in files)
    out = remote.run(f"mkdir -p {into} && cd {into} && for f in {names}; do "
                     '[ -f "$f" ] && sha256sum "$f"; done; true', timeout=300).stdout
    present = {line.split()[1]: line.split()[0] for line in out.splitlines() if len(line.split()) == 2}
    sent = []
    for name, local in files.items():
        # stored uploads are named by their digest; anything else is hashed here
        digest = local.name if re.fullmatch(r"[0-9a-f]{64}", local.name) else sha256(local)
        if present.get(name) != digest:
            remote.put(local, f"{into}/{name}.part")
            remote.run(f"mv {into}/{name}.part {into}/{name}", timeout=60)
            sent.append(name)
    return sent


def install_modules(remote: Remote, archive: str, release: str | None, uid: int | None) -> None:
    """Unpack the modules archive's lib/modules/<release> tree into / (nothing else from it)."""
    s = sudo(uid)
    depmod = f" && {s}depmod -a {shlex.quote(release)}" if release else ""
    # GNU tar fails on a member pattern that matches nothing, so name only the archive's own
    # spelling (tuxmake writes lib/modules/..., `tar -C dir .` writes ./lib/modules/...)
    remote.run(f"case \"$(tar -tf {archive} 2>/dev/null | head -n 1)\" in ./*) p=./;; *) p=;; esac\n"
               f"{s}tar -xf {archive} -C / --no-same-owner --wildcards \"${{p}}lib/modules/*\"{depmod}",
               timeout=600)


def kexec(remote: Remote, kernel: str, initrd: str | None, cmdline: str, uid: int | None) -> None:
    s = sudo(uid)
    load = f"{s}kexec -l {kernel}" + (f" --initrd={initrd}" if initrd else "")
    remote.run(f"{load} --append={shlex.quote(cmdline)}", timeout=120)
    # systemctl kexec stops services cleanly; kexec -e is the fallback without systemd
    remote.run(DETACH.format(shlex.quote(f"sleep 1; {s}systemctl kexec || {s}kexec -e")), timeout=30)


GRUB_ENTRY = """menuentry 'fastpath {session}' --id fastpath-{session} {{
  search --no-floppy --file --set=root {prefix}/fastpath/vmlinuz-{session}
  linux {prefix}/fastpath/vmlinuz-{session} {cmdline}
{initrd_line}}}
"""


def reboot(remote: Remote, kernel: str, initrd: str | None, cmdline: str, session: str,
           uid: int | None) -> None:
    """Install the kernel as a one-time GRUB entry (grub-reboot) and reboot into it."""
    s = sudo(uid)
    prefix_probe = remote.run("mountpoint -q /boot && echo separate || echo root", timeout=30)
    prefix = "" if prefix_probe.stdout.strip() == "separate" else "/boot"
    initrd_line = f"  initrd {prefix}/fastpath/initrd-{session}\n" if initrd else ""
    entry = GRUB_ENTRY.format(session=session, prefix=prefix, cmdline=cmdline, initrd_line=initrd_line)
    script = [f"{s}install -D -m 0644 {kernel} /boot/fastpath/vmlinuz-{session}"]
    if initrd:
        script.append(f"{s}install -D -m 0644 {initrd} /boot/fastpath/initrd-{session}")
    script += [f"printf %s {shlex.quote(entry)} | {s}tee /boot/grub/custom.cfg > /dev/null",
               f"{s}grub-reboot fastpath-{session}"]
    remote.run(" && ".join(script), timeout=300)
    remote.run(DETACH.format(shlex.quote(f"sleep 1; {s}systemctl reboot")), timeout=30)


def power_cycle(argv: list[str], values: dict[str, str], run: Callable = subprocess.run) -> None:
    """Run the class's power_cycle command on the scheduler host, placeholders filled in."""
    command = [arg.format(**values) for arg in argv]
    try:
        done = run(command, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandFailed(f"power_cycle command {command[0]!r} failed: {exc}") from exc
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise CommandFailed(f"power_cycle command exited with status {done.returncode}: {tail}")


def verify(facts: dict, old_boot_id: str, cmdline: str, release: str | None) -> None:
    """The SUT booted anew, into the expected kernel with the expected command line."""
    if facts["boot_id"] == old_boot_id:
        raise BootFailure("the SUT did not reboot (its boot id is unchanged)")
    seen = facts["cmdline"].split()
    missing = [token for token in cmdline.split() if token not in seen]
    if missing:
        raise BootFailure(f"booted with the wrong command line: missing {' '.join(missing)} "
                          f"in {facts['cmdline']!r}")
    if release and facts["release"] != release:
        raise BootFailure(f"booted kernel {facts['release']!r}, expected {release!r}")
