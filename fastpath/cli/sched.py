"""`fastpath sched`: run the scheduler, and talk to it.

The client verbs import only the standard library's HTTP client; the server
verbs import the service (falcon, peewee, gunicorn) inside their bodies. The
verbs of the other modules (VERBS) are imported only when one of them runs, so
that `sched sutclass-list` loads none of the lease, plan or job code.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from fastpath.cli.client import client_command
from fastpath.cli.output import (
    emit_json,
    json_option,
    reports_errors,
    table,
    when,
)

SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class Size(click.ParamType):
    """A byte count such as 500M or 8G."""

    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1] if text and text[-1] in SIZE_UNITS else ""
        number = text[: len(text) - len(unit)]
        try:
            size = int(float(number) * SIZE_UNITS[unit])
        except ValueError:
            self.fail(f"{value!r} is not a size like 500M or 8G", param, ctx)
        if size <= 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return size


# verb -> the module whose COMMANDS has it (tests/unit/test_cli_lazy.py keeps this true)
VERBS = {
    **dict.fromkeys(["job-list", "job-log"], "fastpath.cli.jobs"),
    **dict.fromkeys(["sut-list", "sut-update", "user-list", "user-update", "event-list"],
                    "fastpath.cli.lab"),
    **dict.fromkeys(["lease-acquire", "lease-list", "lease-release", "lease-extend", "lease-ssh"],
                    "fastpath.cli.leases"),
    **dict.fromkeys(["plan-exec", "plan-list", "plan-update", "plan-cancel"], "fastpath.cli.plans"),
}


class Verbs(click.Group):
    """The sched group: its own verbs, and those of VERBS imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *VERBS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in VERBS and name not in self.commands:
            for command in importlib.import_module(VERBS[name]).COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, name)


@click.group(cls=Verbs)
def sched() -> None:
    """Run the scheduler, and submit and manage plans and leases on it."""


# --- server verbs -------------------------------------------------------------


def _opt(*names, envvar, **kw):
    return click.option(*names, envvar=envvar, show_envvar=True, show_default=True, **kw)


database_option = _opt("--database", envvar="FASTPATH_DATABASE", default="sqlite:///scheduler.db",
                       help="Database URL: sqlite:///file.db, postgresql://user@host/db or "
                            "mysql://user@host/db.")
storage_option = _opt("--storage", envvar="FASTPATH_STORAGE", default="./sched_storage",
                      type=click.Path(file_okay=False, path_type=Path),
                      help="Directory for uploaded files and collected results.")
sutclasses_option = _opt("--sutclasses", envvar="FASTPATH_SUTCLASSES", default="./sutclasses.yaml",
                         type=click.Path(dir_okay=False, path_type=Path),
                         help="YAML file declaring the SUT classes and their SUTs.")
resultstore_option = _opt("--resultstore", envvar="FASTPATH_RESULTSTORE", default=None,
                          help="Resultstore URL that plans publish to: sqlite:///file, "
                               "mysql://user:password@host:port/db or csv:///dir.")
api_options = [
    _opt("--host", envvar="FASTPATH_HOST", default="127.0.0.1", help="Address the API listens on."),
    _opt("--port", envvar="FASTPATH_PORT", default=5000, type=click.IntRange(1, 65535),
         help="Port the API listens on."),
    _opt("--workers", envvar="FASTPATH_WORKERS", default=2, type=click.IntRange(1, 64),
         help="API worker processes."),
    _opt("--threads", envvar="FASTPATH_THREADS", default=32, type=click.IntRange(1, 1024),
         help="Threads per API worker for requests and their database calls "
              "(a waiting client holds none)."),
    _opt("--max-upload", envvar="FASTPATH_MAX_UPLOAD", default="8G", type=Size(),
         help="Largest plan upload accepted (bigger ones get 413)."),
    _opt("--max-queued-jobs", envvar="FASTPATH_MAX_QUEUED_JOBS", default=100_000,
         type=click.IntRange(1, 10**9),
         help="Queued jobs one user may have; a plan that would pass it gets 409."),
]
webhook_options = [
    click.option("--webhook", "webhook", multiple=True, metavar="URL",
                 help="POST a signed JSON event here when a plan ends, a lease is acquired, "
                      "expiring or expired, or a SUT turns unhealthy or recovers (repeatable)."),
    _opt("--webhooks", "webhooks_file", envvar="FASTPATH_WEBHOOKS", default=None,
         type=click.Path(exists=True, dir_okay=False, path_type=Path),
         help="YAML file listing webhook URLs (a list of URLs, or of {url: URL})."),
    _opt("--webhook-secret-file", envvar="FASTPATH_WEBHOOK_SECRET_FILE", default=None,
         type=click.Path(exists=True, dir_okay=False, path_type=Path),
         help="File holding the webhooks' HMAC-SHA256 secret [else $FASTPATH_WEBHOOK_SECRET]."),
]
metrics_options = [
    _opt("--metrics-host", envvar="FASTPATH_METRICS_HOST", default="127.0.0.1",
         help="Address the controller's Prometheus metrics listen on (with --metrics-port)."),
    _opt("--metrics-port", envvar="FASTPATH_METRICS_PORT", default=None, type=click.IntRange(1, 65535),
         help="Serve the controller's Prometheus metrics on this port, at /metrics [default: not served]."),
]
log_option = _opt("--log-level", envvar="FASTPATH_LOG_LEVEL", default="info",
                  type=click.Choice(["debug", "info", "warning", "error"]), help="Log verbosity.")


def _apply(options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _settings(**kw):
    from fastpath.sched.server import Settings, webhook_urls

    names = ("database", "storage", "sutclasses", "resultstore", "host", "port", "workers",
             "threads", "max_upload", "max_queued_jobs", "webhook_secret_file", "metrics_host",
             "metrics_port")
    hooks = webhook_urls(kw.get("webhook") or (), kw.get("webhooks_file"))
    return Settings(webhooks=hooks, **{k: v for k, v in kw.items() if k in names and v is not None})


def _logging(level: str) -> None:
    import logging

    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("paramiko").setLevel(max(logging.WARNING, logging.getLogger().level))


@sched.command()
@_apply([*api_options, database_option, storage_option, sutclasses_option, resultstore_option,
         *webhook_options, log_option])
@reports_errors
def run(log_level: str, **kw) -> None:
    """Run the scheduler: the controller and the API, stopped together by SIGTERM or Ctrl-C."""
    import os

    from fastpath.control.tuning import tuning_from
    from fastpath.sched import checks, server

    _logging(log_level)
    tuning_from(os.environ.get("FASTPATH_TUNING"))  # a mistake stops us here, not in a child
    settings = _settings(**kw)
    server.check_port(settings)  # before the admin exists: its token is printed only once
    server.check_webhooks(settings)
    checks.check_storage(settings.storage)
    checks.check_resultstore(settings.resultstore)
    server.bootstrap(settings, sync=True)
    sys.exit(server.supervise(settings))


@sched.command()
@_apply([*api_options, database_option, storage_option, resultstore_option, log_option])
@reports_errors
def api(log_level: str, **kw) -> None:
    """Run only the API (for split deployments: any number of these)."""
    from fastpath.sched import checks, server

    _logging(log_level)
    settings = _settings(**kw)
    checks.check_storage(settings.storage)
    server.check_port(settings)
    server.bootstrap(settings, sync=False)
    server.serve_api(settings)


@sched.command()
@_apply([database_option, storage_option, sutclasses_option, resultstore_option,
         *webhook_options, *metrics_options, log_option])
@reports_errors
def controller(log_level: str, **kw) -> None:
    """Run only the controller (for split deployments: one active, others stand by)."""
    from fastpath.sched import checks, server

    _logging(log_level)
    settings = _settings(**kw)
    server.check_webhooks(settings)
    checks.check_storage(settings.storage)
    checks.check_resultstore(settings.resultstore)
    server.serve_controller(settings)


@sched.command()
@_apply([database_option, log_option])
@click.option("--check", is_flag=True,
              help="Only report the pending migrations; exit 1 if there are any.")
@reports_errors
def migrate(log_level: str, database: str, check: bool) -> None:
    """Bring the database's schema up to date (every server verb also does it on start).

    \b
    Examples:
      fastpath sched migrate --database postgresql://fastpath@db/fastpath --check
      fastpath sched migrate --database sqlite:///scheduler.db
    """
    from fastpath.store import db, schema

    _logging(log_level)
    db.db.initialize(db.open_database(database))
    with db.db.connection_context():
        todo = schema.pending()
        current = schema.version()
    if check:
        if current is None:
            click.echo("The database is empty: the first start creates its schema.")
        elif todo:
            click.echo(f"Schema {current}; pending migrations: {', '.join(map(str, todo))}")
            sys.exit(1)
        else:
            click.echo(f"Schema {current}: up to date.")
        return
    applied = schema.migrate()
    with db.db.connection_context():
        now = schema.version()
    click.echo(f"Applied migrations {', '.join(map(str, applied))}; schema {now}." if applied
               else f"Schema {now}: up to date.")


@sched.command("admin-token")
@_apply([database_option, log_option])
@json_option
@reports_errors
def admin_token(log_level: str, database: str, as_json: bool) -> None:
    """Give the admin user a new token and print it (the old one stops working).

    For an operator who lost the admin token: it needs local access to the
    scheduler's database, not a token.

    \b
    Example:
      fastpath sched admin-token --database sqlite:///scheduler.db
    """
    import getpass
    import time

    from fastpath.store import db
    from fastpath.store.queries import users

    _logging(log_level)
    db.bind(database)
    with db.db.connection_context():
        token = users.rotate_admin_token(time.time(), actor=f"local:{getpass.getuser()}")
    if as_json:
        emit_json({"status": "success", "user": users.ADMIN, "token": token})
    else:
        click.echo(f"New token of admin user '{users.ADMIN}': {token}")


# --- client verbs -------------------------------------------------------------


@sched.command("user-create")
@click.argument("name")
@click.option("--capabilities", required=True,
              help="Comma-separated capabilities: admin, exec, lease, query.")
@json_option
@client_command
def user_create(client, name: str, capabilities: str, as_json: bool) -> None:
    """Create a scheduler user and print its token (shown only once)."""
    doc = client.request("POST", "/users", body={"name": name, "capabilities": capabilities})
    if as_json:
        emit_json(doc)
    else:
        click.echo(f"Created user '{name}' (id {doc['user_id']}) with token: {doc['token']}")


@sched.command("sutclass-list")
@click.option("--from", "start", help="Report usage from this date or time (e.g. 2026-03-01).")
@click.option("--to", "end", help="Report usage up to this date or time (default: now).")
@json_option
@client_command
def sutclass_list(client, start: str | None, end: str | None, as_json: bool) -> None:
    """List SUT classes: id, name, enabled, usage, creation time."""
    doc = client.get("/sutclasses", **{"from": start, "to": end})
    if as_json:
        return emit_json(doc)
    window = start is not None or end is not None
    headers = ["id", "name", "enabled", "in use", *(["usage"] if window else []), "created"]
    rows = []
    for c in doc["sutclasses"]:
        usage = c["usage"]
        share = usage.get("window", {}).get("share")
        rows.append([c["id"], c["name"], c["enabled"], f"{usage['in_use']}/{usage['total']}",
                     *([f"{100 * share:.1f}%" if share is not None else None] if window else []),
                     when(c["created_at"])])
    click.echo(table(headers, rows))

