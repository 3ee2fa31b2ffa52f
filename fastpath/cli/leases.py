"""`fastpath sched lease-acquire|lease-list|lease-release`."""

from __future__ import annotations

import uuid

import click

from fastpath import errors
from fastpath.cli.client import worth_saying
from fastpath.cli.output import emit_json, fields, json_option, table, when

LIST_HEADERS = ["id", "user", "sutclass", "state", "priority", "sut", "queued", "acquired", "ended"]
RECONNECT_FOR = 600.0  # a waiting client rides out a scheduler restart this long


def show(lease: dict) -> str:
    sut = lease.get("sut")
    pairs = [("Lease", lease["id"]), ("User", lease["user"]), ("SUT class", lease["sutclass"]),
             ("State", lease["state"]), ("Priority", lease["priority"])]
    if lease["state"] == "queued" and lease.get("position"):
        pairs.append(("Queue position", lease["position"]))
    if sut:
        pairs += [("SUT", sut["name"]), ("Host", sut["host"]), ("Port", sut["port"]),
                  ("User on SUT", sut["user"])]
    pairs += [("Queued", when(lease["queued_at"])), ("Acquired", when(lease["acquired_at"])),
              ("Ended", when(lease["ended_at"]))]
    text = fields(pairs)
    if sut and lease["state"] == "acquired":
        login = f"{sut['user']}@{sut['host']}" if sut.get("user") else sut["host"]
        port = f" -p {sut['port']}" if sut["port"] != 22 else ""
        text += f"\nConnect with your own lab credentials: ssh{port} {login}"
    return text


class Waiting:
    """Says what a waiting client waits for, once per change."""

    def __init__(self) -> None:
        self.said = None

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
    while lease["state"] == "queued":
        status = f"lease {lease['id']}: waiting for a SUT of class {lease['sutclass']}"
        if lease.get("position"):
            status += f", position {lease['position']} in the queue"
        waiting.say(status + " ...")
        lease = client.retrying(lambda: client.get(path, wait=30),
                                patience=RECONNECT_FOR, exists=True,
                                on_wait=waiting.lost(lease["id"]))["lease"]
    return lease


def register(group: click.Group, client_command) -> None:
    @group.command("lease-acquire")
    @click.argument("sutclass")
    @click.option("--wait", is_flag=True, help="Wait until a SUT is assigned, then print it.")
    @click.option("--priority", type=click.IntRange(0, 10), default=5, show_default=True,
                  help="Higher is served sooner.")
    @json_option
    @client_command
    def lease_acquire(client, sutclass: str, wait: bool, priority: int, as_json: bool) -> None:
        """Request a lease on a SUT of SUTCLASS."""
        key = {"Idempotency-Key": uuid.uuid4().hex}  # a retry never makes a second lease
        lease = client.retrying(
            lambda: client.post("/leases", {"sutclass": sutclass, "priority": priority}, key),
            patience=RECONNECT_FOR if wait else 30, on_wait=requesting)["lease"]
        if wait:
            try:
                lease = wait_for(client, lease)
            except KeyboardInterrupt:
                click.echo(f"\nStopped waiting; lease {lease['id']} is still queued. Release it "
                           f"with: fastpath sched lease-release {lease['id']}", err=True)
                raise SystemExit(130) from None
        emit_json({"status": "success", "lease": lease}) if as_json else click.echo(show(lease))

    @group.command("lease-list")
    @click.argument("id", type=click.IntRange(min=1), required=False)
    @click.option("--states", multiple=True, help="Comma-separated states (repeatable).")
    @click.option("--users", multiple=True, help="Comma-separated user names (repeatable).")
    @click.option("--all-users", is_flag=True, help="Leases of every user.")
    @click.option("--all-states", is_flag=True, help="Leases in every state.")
    @json_option
    @client_command
    def lease_list(client, id, states, users, all_users, all_states, as_json) -> None:
        """List your queued and acquired leases, or show lease ID."""
        if id is not None:
            doc = client.get(f"/leases/{id}")
            return emit_json(doc) if as_json else click.echo(show(doc["lease"]))
        doc = client.get("/leases", states=",".join(states) or None, users=",".join(users) or None,
                         all_users=all_users, all_states=all_states)
        if as_json:
            return emit_json(doc)
        rows = [[x["id"], x["user"], x["sutclass"], x["state"], x["priority"],
                 (x["sut"] or {}).get("name"), when(x["queued_at"]), when(x["acquired_at"]),
                 when(x["ended_at"])] for x in doc["leases"]]
        click.echo(table(LIST_HEADERS, rows))

    @group.command("lease-release")
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
