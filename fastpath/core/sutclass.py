"""Parse and validate `--sutclasses`: the declared SUT classes and their SUTs.

Pure: text in, specs out. Every error names the file, the entry and the field
(`sutclasses.yaml: [0].params.suts[1].connection.params.host: ...`). The
controller syncs the specs into the database declaratively (`queries`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastpath import safeyaml
from fastpath.errors import InputError
from fastpath.plan.durations import parse_duration

BOOTS = ("kexec", "reboot", "power_cycle", "none")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOST = re.compile(r"^[A-Za-z0-9._:-]{1,255}$")
HOST_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$")
LOGIN = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
RUNTIME = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")
PLACEHOLDERS = ("name", "host", "port", "kernel", "initrd", "modules", "cmdline", "release")
MAX_BOOT_TIMEOUT = 24 * 3600.0

# Class params, each also allowed on a SUT to override its class.
DEFAULTS: dict[str, Any] = {
    "boot": "kexec",
    "boot_timeout": 600.0,
    "container_runtime": "docker",
    "base_cmdline": None,
    "power_cycle": None,
    "lease_duration": 4 * 3600.0,  # a lease's default duration (fastpath.core.leasetime)
    "lease_max_duration": 24 * 3600.0,  # the longest a lease may last from its acquisition
    "authorized_keys": None,  # the lessee's key goes here on the SUT; default ~/.ssh/authorized_keys
    "lessee_keys_on_own_host": False,  # lessee keys on a SUT that is the scheduler's own host
    "reset": None,  # after a lease: power_cycle | reboot | none (default: from boot and power_cycle)
    # A registry of the lab's own (host[:port]) from which SUTs may pull benchmark images;
    # without one, containers run with --pull=never: SUTs never contact a public registry.
    "registry": None,
}
RESETS = ("power_cycle", "reboot", "none")
AUTHORIZED_KEYS = re.compile(r"^[A-Za-z0-9._/~-]{1,255}$")


@dataclass(frozen=True)
class SutSpec:
    name: str
    host: str
    port: int
    user: str | None
    keyfile: str | None
    maintenance: bool
    params: dict[str, Any]  # the class's params with this SUT's overrides


@dataclass(frozen=True)
class ClassSpec:
    name: str
    provider: str
    params: dict[str, Any]
    suts: list[SutSpec] = field(default_factory=list)



def parse(text: str, *, source: str, base: Path) -> list[ClassSpec]:
    doc = safeyaml.load(text, source)
    if doc is None:
        doc = []
    if not isinstance(doc, list):
        raise InputError(source, "", "expected a list of SUT classes")
    classes, seen_classes, seen_suts = [], set(), set()
    for i, entry in enumerate(doc):
        spec = _class(entry, source, f"[{i}]", base)
        if spec.name in seen_classes:
            raise InputError(source, f"[{i}].sutclass", f"duplicate SUT class {spec.name!r}")
        seen_classes.add(spec.name)
        for j, sut in enumerate(spec.suts):
            if sut.name in seen_suts:
                raise InputError(
                    source, f"[{i}].params.suts[{j}].name", f"duplicate SUT name {sut.name!r}"
                )
            seen_suts.add(sut.name)
        classes.append(spec)
    return classes


def _mapping(value: Any, source: str, path: str, allowed: set[str], required=()) -> dict:
    if not isinstance(value, dict):
        raise InputError(source, path, "expected a mapping")
    for key in value:
        if key not in allowed:
            raise InputError(source, f"{path}.{key}", f"unknown field; known: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in value:
            raise InputError(source, f"{path}.{key}", "required field is missing")
    return value


def _name(value: Any, source: str, path: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise InputError(
            source, path, "expected a name of letters, digits, '.', '_' or '-' (at most 64)"
        )
    return value


def _class(entry: Any, source: str, path: str, base: Path) -> ClassSpec:
    entry = _mapping(entry, source, path, {"sutclass", "type", "params"}, ("sutclass", "type"))
    name = _name(entry["sutclass"], source, f"{path}.sutclass")
    if entry["type"] != "static":
        raise InputError(source, f"{path}.type", f"unknown provider {entry['type']!r}; known: static")
    raw = _mapping(entry.get("params") or {}, source, f"{path}.params", {*DEFAULTS, "suts"})
    params = _params(raw, dict(DEFAULTS), source, f"{path}.params")
    suts_raw = raw.get("suts") or []
    if not isinstance(suts_raw, list):
        raise InputError(source, f"{path}.params.suts", "expected a list of SUTs")
    suts = [
        _sut(s, params, source, f"{path}.params.suts[{j}]", base) for j, s in enumerate(suts_raw)
    ]
    return ClassSpec(name=name, provider="static", params=params, suts=suts)


def _params(raw: dict, params: dict, source: str, path: str) -> dict:
    for key in DEFAULTS:
        if key in raw:
            params[key] = raw[key]
    if params["boot"] not in BOOTS:
        raise InputError(source, f"{path}.boot", f"expected one of {', '.join(BOOTS)}")
    timeout = parse_duration(params["boot_timeout"], source=source, path=f"{path}.boot_timeout")
    if not 0 < timeout <= MAX_BOOT_TIMEOUT:
        raise InputError(source, f"{path}.boot_timeout", "expected a duration between 1s and 24h")
    params["boot_timeout"] = timeout
    _lease_params(params, source, path)
    registry = params["registry"]
    if registry is not None and (not isinstance(registry, str) or not HOST.match(registry)):
        raise InputError(source, f"{path}.registry", "expected a registry host[:port]")
    runtime = params["container_runtime"]
    if not isinstance(runtime, str) or not RUNTIME.match(runtime):
        raise InputError(source, f"{path}.container_runtime", "expected a command name like docker or podman")
    if params["base_cmdline"] is not None and not isinstance(params["base_cmdline"], str):
        raise InputError(source, f"{path}.base_cmdline", "expected a string")
    command = params["power_cycle"]
    if command is not None:
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            raise InputError(source, f"{path}.power_cycle", "expected a command as a list of strings")
        for arg in command:
            for word in re.findall(r"\{(\w*)\}", arg):
                if word not in PLACEHOLDERS:
                    raise InputError(
                        source, f"{path}.power_cycle",
                        f"unknown placeholder {{{word}}}; known: {', '.join(PLACEHOLDERS)}",
                    )
    return params


def reset_method(params: dict) -> str:
    """How a SUT is reset after a lease (a person may have changed anything): the `reset`
    param, else none for `boot: none`, power_cycle where there is a command, reboot otherwise."""
    if params.get("reset"):
        return params["reset"]
    if params.get("boot") == "none":
        return "none"
    return "power_cycle" if params.get("power_cycle") else "reboot"


def boot_back_method(params: dict) -> str:
    """How a SUT left on another kernel gets back to its own: the class's boot method."""
    return "power_cycle" if params.get("power_cycle") else "reboot"


def refusal_stands(refused: str | None, params: dict) -> bool:
    """Whether a refused `kind:method` (the guard refused to reset, or to boot back, this way)
    would be refused again: until the class's method for it changes."""
    if not refused:
        return False
    kind, _, method = refused.partition(":")
    return method == (boot_back_method(params) if kind == "boot_back" else reset_method(params))


def _lease_params(params: dict, source: str, path: str) -> None:
    """The params of leases: their durations and where the lessee's key goes."""
    for key in ("lease_duration", "lease_max_duration"):
        seconds = parse_duration(params[key], source=source, path=f"{path}.{key}")
        if seconds <= 0:
            raise InputError(source, f"{path}.{key}", "expected a positive duration like 4h")
        params[key] = seconds
    if params["lease_duration"] > params["lease_max_duration"]:
        raise InputError(source, f"{path}.lease_duration", "longer than lease_max_duration")
    keys = params["authorized_keys"]
    if keys is not None and (not isinstance(keys, str) or not AUTHORIZED_KEYS.match(keys)
                             or ".." in keys.split("/")):
        raise InputError(source, f"{path}.authorized_keys", "expected a file path on the SUT")
    if not isinstance(params["lessee_keys_on_own_host"], bool):
        raise InputError(source, f"{path}.lessee_keys_on_own_host", "expected true or false")
    params["reset"] = reset_method(params)
    if params["reset"] not in RESETS:
        raise InputError(source, f"{path}.reset", f"expected one of {', '.join(RESETS)}")
    if params["reset"] == "power_cycle" and not params["power_cycle"]:
        raise InputError(source, f"{path}.reset", "reset: power_cycle needs a power_cycle command")


def _sut(entry: Any, class_params: dict, source: str, path: str, base: Path) -> SutSpec:
    entry = _mapping(
        entry, source, path, {"name", "connection", "maintenance", *DEFAULTS}, ("name", "connection")
    )
    name = _name(entry["name"], source, f"{path}.name")
    conn = _mapping(
        entry["connection"], source, f"{path}.connection", {"method", "params"}, ("method", "params")
    )
    if conn["method"] != "SSH":
        raise InputError(source, f"{path}.connection.method", "only SSH is supported")
    cpath = f"{path}.connection.params"
    ssh = _mapping(conn["params"], source, cpath, {"host", "port", "user", "keyfile", "host_key"}, ("host",))
    host = ssh["host"]
    if not isinstance(host, str) or not HOST.match(host):
        raise InputError(source, f"{cpath}.host", "expected a host name or address")
    port = ssh.get("port", 22)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InputError(source, f"{cpath}.port", "expected a port number 1-65535")
    user = ssh.get("user")
    if user is not None and (not isinstance(user, str) or not LOGIN.match(user)):
        raise InputError(source, f"{cpath}.user", "expected a login name")
    keyfile = ssh.get("keyfile")
    if keyfile is not None:
        if not isinstance(keyfile, str) or not keyfile:
            raise InputError(source, f"{cpath}.keyfile", "expected a path")
        keyfile = str((base / os.path.expanduser(keyfile)).resolve())
        if not os.path.isfile(keyfile):
            raise InputError(source, f"{cpath}.keyfile", f"no such file: {keyfile}")
        if not os.access(keyfile, os.R_OK):  # refused now, not at the first SSH connection
            raise InputError(source, f"{cpath}.keyfile", f"cannot read {keyfile}: permission "
                                                        "denied for the scheduler's user")
    maintenance = entry.get("maintenance", False)
    if not isinstance(maintenance, bool):
        raise InputError(source, f"{path}.maintenance", "expected true or false")
    params = _params(entry, dict(class_params), source, path)
    host_key = ssh.get("host_key")
    if host_key is not None:
        if not isinstance(host_key, str) or not HOST_KEY.match(host_key.strip()):
            raise InputError(source, f"{cpath}.host_key", "expected a public key like 'ssh-ed25519 AAAA...'")
        params["host_key"] = " ".join(host_key.split()[:2])
    if params["boot"] == "power_cycle" and not params["power_cycle"]:
        raise InputError(source, f"{path}.power_cycle", "boot: power_cycle needs a power_cycle command")
    return SutSpec(name, host, port, user, keyfile, maintenance, params)
