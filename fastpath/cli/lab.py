"""`fastpath sched sut-list|sut-update|user-list|user-update|event-list`: the lab from the CLI."""

from __future__ import annotations

import click

from fastpath.cli.client import client_command
from fastpath.cli.output import emit_json, json_option, short, table, when

SUT_HEADERS = ["name", "sutclass", "health", "held by", "kernel", "maintenance", "last ok",
               "last error"]
EVENT_HEADERS = ["id", "at", "actor", "kind", "ref", "from", "to", "detail"]
USER_HEADERS = ["id", "name", "capabilities", "disabled", "created"]


def _holder(sut: dict) -> str | None:
    h = sut.get("held_by")
    return f"{h['kind']} {h['id']} ({h.get('user')})" if h else None


def _maintenance(sut: dict) -> str | None:
    m = sut["maintenance"]
    parts = (["declared"] if m["declared"] else []) + (
        [f"drained by {m['drained_by']}" + (f": {m['reason']}" if m["reason"] else "")]
        if m["drained"] else [])
    return "; ".join(parts) or None


@click.command("sut-list")
@click.argument("sutclass", required=False)
@json_option
@client_command
def sut_list(client, sutclass: str | None, as_json: bool) -> None:
    """List SUTs (of SUTCLASS): health, holder, running kernel, maintenance, last error.

    \b
    Examples:
      fastpath sched sut-list
      fastpath sched sut-list demo --json
    """
    doc = client.get("/suts", sutclass=sutclass)
    if as_json:
        return emit_json(doc)
    rows = [[s["name"], s["sutclass"], s["health"], _holder(s), s["kernel"], _maintenance(s),
             when(s["last_ok_at"]), short(s["last_error"])] for s in doc["suts"]]
    click.echo(table(SUT_HEADERS, rows))


@click.command("sut-update")
@click.argument("name")
@click.option("--maintenance/--no-maintenance", default=None, required=True,
              help="Drain the SUT (its running job or lease finishes, nothing new starts "
                   "on it), or lift the drain.")
@click.option("--reason", help="Why, shown in sut-list.")
@json_option
@client_command
def sut_update(client, name: str, maintenance: bool | None, reason: str | None,
               as_json: bool) -> None:
    """Drain SUT NAME for maintenance, or return it to service (admin).

    The drain is stored by the scheduler: it survives restarts and reloads. A SUT
    marked `maintenance: true` in --sutclasses stays in maintenance whatever the drain.

    \b
    Examples:
      fastpath sched sut-update demo-01 --maintenance --reason "new DIMMs"
      fastpath sched sut-update demo-01 --no-maintenance
    """
    if maintenance is None:
        raise click.UsageError("give --maintenance or --no-maintenance")
    body = {"maintenance": maintenance, **({"reason": reason} if reason else {})}
    doc = client.patch(f"/suts/{name}", body)
    if as_json:
        return emit_json(doc)
    sut = doc["sut"]
    held = f"; {_holder(sut)} finishes first" if maintenance and sut.get("held_by") else ""
    click.echo(f"SUT {sut['name']} is {sut['health']}"
               + (" (drained)" if sut["maintenance"]["drained"] else "") + held + ".")


@click.command("user-list")
@json_option
@client_command
def user_list(client, as_json: bool) -> None:
    """List users and their capabilities (admin).

    \b
    Example:
      fastpath sched user-list
    """
    doc = client.get("/users")
    if as_json:
        return emit_json(doc)
    rows = [[u["id"], u["name"], u["capabilities"], u.get("disabled", False),
             when(u["created_at"])] for u in doc["users"]]
    click.echo(table(USER_HEADERS, rows))


@click.command("user-update")
@click.argument("name")
@click.option("--capabilities", help="New comma-separated capabilities: admin, exec, lease, query.")
@click.option("--disable/--enable", "disabled", default=None,
              help="Disable the account (its token stops working within 2 s), or enable it.")
@click.option("--rotate-token", is_flag=True,
              help="Give the user a new token (shown once); the old one stops working within 2 s.")
@json_option
@client_command
def user_update(client, name: str, capabilities: str | None, disabled: bool | None,
                rotate_token: bool, as_json: bool) -> None:
    """Change user NAME's capabilities, disable or enable it, or rotate its token (admin).

    \b
    Examples:
      fastpath sched user-update bob --capabilities lease,query
      fastpath sched user-update bob --disable
      fastpath sched user-update bob --rotate-token
    """
    if capabilities is None and disabled is None and not rotate_token:
        raise click.UsageError("nothing to change: give --capabilities, --disable, --enable "
                               "or --rotate-token")
    doc = {}
    if capabilities is not None or disabled is not None:
        body = {k: v for k, v in (("capabilities", capabilities), ("disabled", disabled))
                if v is not None}
        doc = client.patch(f"/users/{name}", body)
    if rotate_token:
        doc = {**doc, **client.post(f"/users/{name}/token")}
    if as_json:
        return emit_json(doc)
    user = doc["user"]
    click.echo(f"User {user['name']}: capabilities {user['capabilities']}"
               + (", disabled" if user.get("disabled") else ""))
    if rotate_token:
        click.echo(f"New token: {doc['token']}")


@click.command("event-list")
@click.option("--since", help="Events at or after this date or time (e.g. 2026-03-01T08:00).")
@click.option("--kind", multiple=True,
              help="Comma-separated kinds: lease, plan, job, sut, sutclass, user (repeatable).")
@click.option("--sutclass", help="Events about the records of this SUT class.")
@click.option("--user", help="Events this user caused, or about their leases, plans and jobs.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
@client_command
def event_list(client, since, kind, sutclass, user, limit, as_json) -> None:
    """List the event log, oldest first: who did what, from which state to which, when.

    \b
    Examples:
      fastpath sched event-list --since 2026-03-01 --kind lease,plan
      fastpath sched event-list --sutclass demo --user bob --json
    """
    doc = client.get("/events", since=since, kind=",".join(kind) or None, sutclass=sutclass,
                     user=user, limit=limit)
    if as_json:
        return emit_json(doc)
    rows = [[e["id"], when(e["at"]), e["actor"], e["kind"],
             f"{e['ref']} ({e['name']})" if e.get("name") else e["ref"], e["from"], e["to"],
             short(e["detail"])] for e in doc["events"]]
    click.echo(table(EVENT_HEADERS, rows))


COMMANDS = [sut_list, sut_update, user_list, user_update, event_list]
