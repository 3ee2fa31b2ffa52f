"""`fastpath sched lease-acquire|lease-list|lease-release`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import click

from fastpath import errors
from fastpath.cli.client import client_command, worth_saying
from fastpath.cli.output import (
    emit_json,
    eta,
    fields,
    json_option,
    json_text,
    listed,
    listing_options,
    table,
    waiting,
    watch_loop,
    watch_option,
    when,
)
from fastpath.core.states import LeaseState

LIST_HEADERS = ["id", "user", "sutclass", "state", "priority", "sut", "position", "expected start",
                "queued", "acquired", "expires", "left", "ended"]
RECONNECT_FOR = 600.0  # a waiting client rides out a scheduler restart this long


def _epoch(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def left(lease: dict, now: float | None = None) -> str | None:
    """Time left of an acquired lease, as 1h59m; None for any other state."""
    from fastpath.plan.durations import format_duration

    expires = _epoch(lease.get("expires_at"))
    if lease["state"] != LeaseState.ACQUIRED or expires is None:
        return None
    return format_duration(max(0, round(expires - (time.time() if now is None else now))))


def default_key() -> Path | None:
    """The user's own public key, as OpenSSH would offer it: ~/.ssh/id_ed25519.pub or id_rsa.pub."""
    for name in ("id_ed25519.pub", "id_rsa.pub"):
        path = Path(os.path.expanduser("~/.ssh")) / name
        if path.is_file():
            return path
    return None


def chosen_key(ssh_key: Path | None, no_ssh_key: bool) -> Path | None:
    if ssh_key is not None and no_ssh_key:
        raise click.UsageError("--ssh-key and --no-ssh-key exclude each other")
    return None if no_ssh_key else (ssh_key or default_key())


def read_public_key(path: Path) -> str:
    """The public key line of FILE.pub; a private key is never read or sent."""
    if path.suffix != ".pub":
        raise click.BadParameter(f"{path}: expected the public key (a .pub file)",
                                 param_hint="--ssh-key")
    text = path.read_text(errors="replace").strip()
    if "PRIVATE KEY" in text:
        raise click.BadParameter(f"{path} holds a private key", param_hint="--ssh-key")
    return text


def show(lease: dict) -> str:
    sut = lease.get("sut")
    pairs = [("Lease", lease["id"]), ("User", lease["user"]), ("SUT class", lease["sutclass"]),
             ("State", lease["state"]), ("Priority", lease["priority"])]
    if lease["state"] == LeaseState.QUEUED:
        pairs += waiting(lease)
    if sut:
        pairs += [("SUT", sut["name"]), ("Host", sut["host"]), ("Port", sut["port"]),
                  ("User on SUT", sut["user"])]
    from fastpath.plan.durations import format_duration

    if lease.get("kernel"):
        pairs += [("Kernel", lease["kernel"]["release"]), ("Cmdline", lease["kernel"]["cmdline"])]
    pairs += [("Queued", when(lease["queued_at"])), ("Acquired", when(lease["acquired_at"]))]
    if lease.get("duration"):
        pairs.append(("Duration", format_duration(round(lease["duration"]))))
    if lease["state"] == LeaseState.ACQUIRED:
        pairs += [("Expires", when(lease.get("expires_at"))), ("Time left", left(lease))]
    if lease["state"] == LeaseState.EXPIRED:
        pairs.append(("Expired", when(lease["ended_at"])))
    else:
        pairs.append(("Ended", when(lease["ended_at"])))
    if lease.get("ssh_key_fingerprint"):
        pairs.append(("SSH key", lease["ssh_key_fingerprint"]))
    if lease.get("ssh_key_note"):
        pairs.append(("SSH key note", lease["ssh_key_note"]))
    text = fields(pairs)
    if sut and lease["state"] == LeaseState.ACQUIRED:
        if lease.get("ssh_key_fingerprint") and not lease.get("ssh_key_note"):
            text += f"\nConnect with your key: fastpath sched lease-ssh {lease['id']}"
        else:
            login = f"{sut['user']}@{sut['host']}" if sut.get("user") else sut["host"]
            port = f" -p {sut['port']}" if sut["port"] != 22 else ""
            text += f"\nConnect with your own lab credentials: ssh{port} {login}"
    return text


def ssh_argv(lease: dict, identity: Path | None, known_hosts: Path | None,
             command: tuple[str, ...]) -> list[str]:
    """OpenSSH to the leased SUT with its host, port and user (and its host key, when known)."""
    sut = lease["sut"]
    argv = ["ssh", "-p", str(sut["port"])]
    if identity is not None:
        argv += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    if known_hosts is not None:
        argv += ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes"]
    login = f"{sut['user']}@{sut['host']}" if sut.get("user") else sut["host"]
    return [*argv, "--", login, *command]


class Waiting:
    """Says what a waiting client waits for, once per change."""

    def __init__(self) -> None:
        self.said: str | None = None

    def say(self, text: str) -> None:
        if text != self.said:
            click.echo(text, err=True)
            self.said = text

    def lost(self, lease_id: int):
        """The message while the scheduler is away and lease `lease_id` exists."""

        def say(exc: errors.Unavailable, attempt: int) -> None:
            if worth_saying(attempt):
                self.say(f"lease {lease_id}: {exc.message}; retry {attempt}, the lease is kept")

        return say


def requesting(exc: errors.Unavailable, attempt: int) -> None:
    """The message while the lease request has no answer: no lease may exist yet."""
    if worth_saying(attempt):
        click.echo(f"{exc.message}; retry {attempt} of the lease request "
                   "(its key makes sure it is granted once)", err=True)


def wait_for(client, lease: dict) -> dict:
    """Long-poll until the lease leaves `queued`, saying where it stands in the queue."""
    waiting, path = Waiting(), f"/leases/{lease['id']}"
    while lease["state"] == LeaseState.QUEUED:
        status = f"lease {lease['id']}: waiting for a SUT of class {lease['sutclass']}"
        if lease.get("position"):
            status += f", position {lease['position']} in the queue"
            status += f" ({lease.get('reason')}; expected start {eta(lease.get('eta'))})"
        waiting.say(status + " ...")
        lease = client.retrying(lambda: client.get(path, wait=30),
                                patience=RECONNECT_FOR, exists=True,
                                on_wait=waiting.lost(lease["id"]))["lease"]
    return lease


def ssh_to(client, id: int, command: tuple[str, ...], identity: Path | None, as_json: bool) -> None:
    """`lease-ssh`: OpenSSH to the SUT of acquired lease ID, checked against its host key."""
    lease = client.get(f"/leases/{id}")["lease"]
    if lease["state"] != LeaseState.ACQUIRED or not lease.get("sut"):
        raise errors.Conflict(f"lease {id} is {lease['state']}; only an acquired lease "
                              "can be logged in to")
    if as_json and not command:
        raise click.UsageError("--json needs a COMMAND to run (lease-ssh ID --json -- COMMAND)")
    if identity is None and (public := default_key()) is not None:
        identity = public.with_suffix("") if public.with_suffix("").is_file() else None
    if shutil.which("ssh") is None:
        raise errors.Invalid("ssh (OpenSSH) is not installed here")
    with tempfile.TemporaryDirectory(prefix="fastpath-ssh-") as tmp:
        known = None
        if lease["sut"].get("host_key"):
            sut = lease["sut"]
            name = sut["host"] if sut["port"] == 22 else f"[{sut['host']}]:{sut['port']}"
            known = Path(tmp) / "known_hosts"
            known.write_text(f"{name} {sut['host_key']}\n")
        argv = ssh_argv(lease, identity, known, command)
        if not as_json:
            raise SystemExit(subprocess.call(argv))
        done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    emit_json({"status": "success", "lease": id, "exit_status": done.returncode,
               "stdout": done.stdout, "stderr": done.stderr})


@click.command("lease-acquire")
@click.argument("sutclass")
@click.option("--wait", is_flag=True, help="Wait until a SUT is assigned, then print it.")
@click.option("--priority", type=click.IntRange(0, 10), default=5, show_default=True,
              help="Higher is served sooner.")
@click.option("--duration", metavar="DUR",
              help="How long the lease lasts once acquired, e.g. 30m, 2h, 1d "
                   "(default: the class's lease_duration).")
@click.option("--ssh-key", "ssh_key", metavar="FILE.pub",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your public key, added to the SUT for the lease "
                   "(default: ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub if there is one).")
@click.option("--no-ssh-key", is_flag=True, help="Add no key of yours to the SUT.")
@json_option
@client_command
def lease_acquire(client, sutclass: str, wait: bool, priority: int, duration: str | None,
                  ssh_key: Path | None, no_ssh_key: bool, as_json: bool) -> None:
    """Request a lease on a SUT of SUTCLASS."""
    key = {"Idempotency-Key": uuid.uuid4().hex}  # a retry never makes a second lease
    doc: dict = {"sutclass": sutclass, "priority": priority}
    if duration is not None:
        doc["duration"] = duration
    if (public := chosen_key(ssh_key, no_ssh_key)) is not None:
        doc["ssh_key"] = read_public_key(public)
    lease = client.retrying(
        lambda: client.post("/leases", doc, key),
        patience=RECONNECT_FOR if wait else 30, on_wait=requesting)["lease"]
    if wait:
        try:
            lease = wait_for(client, lease)
        except KeyboardInterrupt:
            click.echo(f"\nStopped waiting; lease {lease['id']} is still queued. Release it "
                       f"with: fastpath sched lease-release {lease['id']}", err=True)
            raise SystemExit(130) from None
    emit_json({"status": "success", "lease": lease}) if as_json else click.echo(show(lease))


@click.command("lease-list")
@listing_options("Leases")
@watch_option
@json_option
@client_command
def lease_list(client, id, states, users, all_users, all_states, watch: bool, interval: float,
               as_json: bool) -> None:
    """List your queued and acquired leases, or show lease ID.

    \b
    Examples:
      fastpath sched lease-list --all-users
      fastpath sched lease-list 3 --watch
    """
    def render() -> str:
        if id is not None:
            doc = client.get(f"/leases/{id}")
            return json_text(doc) if as_json else show(doc["lease"])
        doc = listed(client, "/leases", states, users, all_users, all_states)
        if as_json:
            return json_text(doc)
        rows = [[x["id"], x["user"], x["sutclass"], x["state"], x["priority"],
                 (x["sut"] or {}).get("name"), x.get("position"), eta(x.get("eta")),
                 when(x["queued_at"]), when(x["acquired_at"]), when(x.get("expires_at")),
                 left(x), when(x["ended_at"])]
                for x in doc["leases"]]
        return table(LIST_HEADERS, rows)

    if watch:
        return watch_loop(render, interval)
    click.echo(render())


@click.command("lease-release")
@click.argument("id", type=click.IntRange(min=1))
@json_option
@client_command
def lease_release(client, id: int, as_json: bool) -> None:
    """Release lease ID (a queued lease is cancelled)."""
    lease = client.post(f"/leases/{id}/release")["lease"]
    if as_json:
        return emit_json({"status": "success", "lease": lease})
    sut = f" (SUT {lease['sut']['name']})" if lease.get("sut") else ""
    click.echo(f"Lease {lease['id']} {lease['state']}{sut}.")


@click.command("lease-extend")
@click.argument("id", type=click.IntRange(min=1))
@click.option("--duration", metavar="DUR", required=True,
              help="How much longer, e.g. 30m, 2h (within the class maximum from acquisition).")
@json_option
@client_command
def lease_extend(client, id: int, duration: str, as_json: bool) -> None:
    """Extend acquired lease ID by DUR."""
    lease = client.post(f"/leases/{id}/extend", {"duration": duration})["lease"]
    if as_json:
        return emit_json({"status": "success", "lease": lease})
    click.echo(f"Lease {lease['id']} now expires at {when(lease['expires_at'])} UTC "
               f"({left(lease)} left).")


@click.command("lease-ssh", context_settings={"ignore_unknown_options": True})
@click.argument("id", type=click.IntRange(min=1))
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("-i", "--identity", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your private key (default: the one of ~/.ssh/id_ed25519.pub or id_rsa.pub).")
@json_option
@client_command
def lease_ssh(client, id: int, command: tuple[str, ...], identity: Path | None,
              as_json: bool) -> None:
    """Log in to the SUT of acquired lease ID with OpenSSH, or run COMMAND there
    (`lease-ssh ID -- COMMAND...`). With --json, run COMMAND and print its outcome."""
    ssh_to(client, id, command, identity, as_json)


COMMANDS = [lease_acquire, lease_list, lease_release, lease_extend, lease_ssh]
