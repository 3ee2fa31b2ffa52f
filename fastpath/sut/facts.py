"""What a SUT says about itself: boot facts for each step, and its fingerprint.

Each is one shell command, because every SSH command costs a round trip;
`survey` gets both, and a step's own work, in one.
"""

from __future__ import annotations

import shlex

from fastpath.sut.remote import Remote

BOOT = (
    "cat /proc/sys/kernel/random/boot_id; (cat /etc/machine-id 2>/dev/null || echo);"
    " cat /proc/sys/kernel/osrelease; cat /proc/cmdline; id -u"
)

FINGERPRINT = r"""
v() { printf '%s=%s\n' "$1" "$(echo "$2" | tr -s ' \t' ' ' | sed 's/^ //;s/ $//')"; }
v host_name "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
v architecture "$(uname -m)"
v cpu_count "$(getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
v cpu_model "$(grep -m1 -E '^(model name|Model|cpu model)' /proc/cpuinfo | cut -d: -f2-)"
v cpu_implementer "$(grep -m1 '^CPU implementer' /proc/cpuinfo | cut -d: -f2-)"
v cpu_part "$(grep -m1 '^CPU part' /proc/cpuinfo | cut -d: -f2-)"
v numa_nodes "$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)"
v memory_kb "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
v product_name "$(cat /sys/class/dmi/id/product_name 2>/dev/null)"
v sys_vendor "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)"
v bios_version "$(cat /sys/class/dmi/id/bios_version 2>/dev/null)"
v kernel_name "$(cat /proc/sys/kernel/osrelease)"
v userspace_name "$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") )"
"""
HW = ("host_name", "architecture", "cpu_count", "cpu_model", "cpu_implementer", "cpu_part",
      "numa_nodes", "memory_kb", "product_name", "sys_vendor", "bios_version")
SW = ("kernel_name", "userspace_name")
NUMERIC = ("cpu_count", "numa_nodes", "memory_kb")


def boot_facts(remote: Remote, and_then: str = "") -> dict:
    """boot_id, machine_id, release, cmdline and uid, as the SUT reports them now.

    `and_then`: a script run in the same command, after (it must print nothing), because
    each command costs a round trip.
    """
    script = BOOT + (f"\n({and_then})" if and_then else "")
    return _boot(remote.run(script, timeout=30).stdout.splitlines())


def _boot(lines: list[str]) -> dict:
    boot_id, machine_id, release, cmdline, uid = (line.strip() for line in (lines + [""] * 5)[:5])
    return {"boot_id": boot_id, "machine_id": machine_id, "release": release,
            "cmdline": cmdline, "uid": int(uid) if uid.isdigit() else None}


FINGERPRINT_MARK = "--- fingerprint"


def survey(remote: Remote, *, fingerprinted_boot: str | None, and_then: str = "") -> tuple[dict, dict | None]:
    """Boot facts, and the fingerprint unless the SUT is still in `fingerprinted_boot`
    (then None); then `and_then` (its output is discarded). One command."""
    known = shlex.quote(fingerprinted_boot or "")
    script = (f"{BOOT}\nif [ \"$(cat /proc/sys/kernel/random/boot_id)\" != {known} ]; then\n"
              f"echo '{FINGERPRINT_MARK}'\n{FINGERPRINT}\nfi\n")
    if and_then:
        script += f"({and_then}) > /dev/null\n"
    lines = remote.run(script, timeout=120).stdout.splitlines()
    seen = _boot(lines)
    if FINGERPRINT_MARK not in lines[5:]:
        return seen, None
    return seen, _fingerprint(lines[lines.index(FINGERPRINT_MARK, 5) + 1:])


def fingerprint(remote: Remote) -> dict:
    """{"HW": {...}, "SW": {...}} as `fastpath sut fingerprint` prints it."""
    return _fingerprint(remote.run(FINGERPRINT, timeout=30).stdout.splitlines())


def _fingerprint(lines: list[str]) -> dict:
    values = {}
    for line in lines:
        key, _, value = line.partition("=")
        if key in HW or key in SW:
            values[key] = int(value) if key in NUMERIC and value.isdigit() else (value or None)
    return {"HW": {k: values.get(k) for k in HW}, "SW": {k: values.get(k) for k in SW}}


def render(fp: dict) -> str:
    """The fingerprint as the YAML-like text of Fastpath's `sut fingerprint`."""
    lines = []
    for section in ("HW", "SW"):
        lines.append(f"{section}:")
        for key, value in fp[section].items():
            if value is not None:
                lines.append(f"  {key}: {value}")
    return "\n".join(lines)
