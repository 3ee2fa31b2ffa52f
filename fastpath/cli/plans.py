"""`fastpath sched plan-exec|plan-list|plan-update|plan-cancel`."""

from __future__ import annotations

import copy
import json
import re
import secrets
import shlex
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import click

from fastpath.cli.blobs import send_missing
from fastpath.cli.client import client_command, worth_saying
from fastpath.cli.output import (
    ExitStatus,
    emit_json,
    eta,
    fields,
    json_option,
    json_text,
    listed,
    listing_options,
    short,
    table,
    waiting,
    watch_loop,
    watch_option,
    when,
)
from fastpath.core.states import ACTIVE_PLAN, HOLDING_JOB, PlanState
from fastpath.errors import Invalid

CHUNK = 1024 * 1024
PROGRESS_FROM = 4 * CHUNK  # show upload progress for uploads at least this big
FIELD = re.compile(r"^swprofiles\[(\d+)\]\.(\w+)$")  # a file field, as path_fields names it
LIST_HEADERS = ["id", "user", "sutclass", "priority", "progress", "status", "failed", "errors",
                "position", "expected start", "queued", "started", "completed"]
JOB_HEADERS = ["job", "swprofile", "session", "state", "sut", "attempts", "step", "results",
               "errors", "last error"]


class Upload:
    """A multipart/form-data body produced chunk by chunk: files are never read whole."""

    def __init__(self, plan: dict, files: dict[str, Path], form: dict[str, str]) -> None:
        self.boundary = "fastpath-" + secrets.token_hex(16)
        self.parts: list[bytes | Path] = [self._head("plan", content_type="application/json"),
                                          json.dumps(plan).encode() + b"\r\n"]
        for name, value in form.items():
            self.parts += [self._head(name), value.encode() + b"\r\n"]
        for name, path in files.items():
            self.parts += [self._head(name, filename=path.name), path, b"\r\n"]
        self.parts.append(f"--{self.boundary}--\r\n".encode())
        self.file_bytes = sum(p.stat().st_size for p in self.parts if isinstance(p, Path))
        self.length = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in self.parts)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, *, filename: str | None = None,
              content_type: str = "application/octet-stream") -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{re.sub(r"[^A-Za-z0-9._+-]", "_", filename)}"'
        elif content_type == "application/octet-stream":
            content_type = "text/plain"
        return (f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode()

    def chunks(self) -> Iterator[bytes]:
        sent, shown = 0, -1
        show = self.file_bytes >= PROGRESS_FROM
        for part in self.parts:
            if not isinstance(part, Path):
                yield part
                continue
            with part.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
                    sent += len(chunk)
                    percent = 100 * sent // self.file_bytes
                    if show and percent != shown and (sys.stderr.isatty() or percent % 10 == 0):
                        shown = percent
                        end = "\r" if sys.stderr.isatty() else "\n"
                        click.echo(f"Uploading {_mb(sent)} of {_mb(self.file_bytes)} ({percent}%)",
                                   err=True, nl=False)
                        click.echo(end, err=True, nl=False)
        if show and sys.stderr.isatty():
            click.echo("", err=True)


def _dry_run(client, document: dict, options: dict) -> bool:
    """Have the scheduler check the submission; False if it is too old to know dry runs."""
    try:
        client.retrying(lambda: client.post("/plans", {"plan": document, **options,
                                                       "dry_run": True}), patience=60)
    except Invalid as exc:
        if exc.message.startswith("unknown field 'dry_run'"):
            return False
        raise
    return True


def by_digest(document: dict, digests: dict[str, str]) -> dict:
    """The plan as written, each file field naming its blob instead of a local path."""
    plan = copy.deepcopy(document)
    for field, digest in digests.items():
        index, key = FIELD.match(field).groups()  # type: ignore[union-attr]  # from path_fields
        plan["swprofiles"][int(index)][key] = digest
    return plan


def _multipart(client, document: dict, files: dict[str, Path], options: dict, key: dict) -> dict:
    upload = Upload(document, files, {"priority": str(options["priority"]),
                                      "publish": "true" if options["publish"] else "false"})
    if files and upload.file_bytes >= PROGRESS_FROM:
        click.echo(f"Uploading {len(files)} files ({_mb(upload.file_bytes)}) with the plan",
                   err=True)
    return client.retrying(
        lambda: client.stream("POST", "/plans", upload.chunks(), upload.length,
                              upload.content_type, key),
        patience=60, on_wait=_resending)


def _resending(exc, attempt: int) -> None:
    """The message while the upload has no answer: no plan may exist yet."""
    if worth_saying(attempt):
        click.echo(f"{exc.message}; retry {attempt} of the upload "
                   "(its key makes sure the plan is queued once)", err=True)


def _mb(n: int) -> str:
    return f"{n / CHUNK:.1f} MiB"


def progress(plan: dict) -> str:
    p = plan["progress"]
    return f"{p['completed']}/{p['total']}"


def show(plan: dict) -> str:
    p = plan["progress"]
    pairs = [("Plan", plan["id"]), ("Name", plan.get("name")), ("User", plan["user"]),
             ("SUT class", plan["sutclass"]), ("Priority", plan["priority"]),
             ("Status", plan["state"] + (" (cancel requested)" if plan["cancel_requested"]
                                         and plan["state"] in ACTIVE_PLAN else "")),
             ("Progress", f"{progress(plan)} jobs completed, {p['failed']} failed, "
                          f"{p['cancelled']} cancelled"),
             ("Results", f"{p['results']} results, {p['errors']} errors"),
             ("Publish", plan["publishing"]),
             ("Last error", _last_error(plan.get("last_error"))),
             *waiting(plan.get("queue"), always=True),
             ("Queued", when(plan["queued_at"])), ("Started", when(plan["started_at"])),
             ("Completed", when(plan["completed_at"]))]
    text = fields(pairs)
    if plan.get("resultstore"):
        # the command that shows this plan's results alone (the password stays masked)
        text += (f"\nShow results: fastpath result show {shlex.quote(plan['resultstore'])} "
                 f"--plan {plan['id']}")
    if plan.get("jobs") is not None:
        rows = [[j["id"], j["swprofile"], j["session"], j["state"], j["sut"], j["attempts"],
                 j["step"], j["results"], j["errors"], short(j["last_error"])]
                for j in plan["jobs"]]
        text += "\n\n" + table(JOB_HEADERS, rows)
    return text


FINAL = ("completed", "failed", "cancelled")
POLL = 1.0  # seconds between two looks at a plan being waited for
RECONNECT_FOR = 600.0  # a waiting client rides out a scheduler restart this long


def status_line(plan: dict) -> str:
    """One line of progress: state, jobs done, running and failed, and why it waits if it does."""
    p = plan["progress"]
    line = (f"plan {plan['id']}: {plan['state']}, {p['completed']}/{p['total']} jobs completed, "
            f"{p['running']} running, {p['failed']} failed, {p['errors']} errors")
    q = plan.get("queue")
    if q and plan["state"] == PlanState.QUEUED:
        line += f"; position {q['position']} in the queue ({q['reason']}; expected start {eta(q['eta'])})"
    return line


def wait_for_plan(client, plan: dict, sleep=None) -> dict:
    """Poll until the plan is final, saying on stderr what changed; the final plan."""
    import time

    sleep = sleep or time.sleep
    said = None
    path = f"/plans/{plan['id']}"

    def unreachable(exc) -> None:
        click.echo(f"{exc.message}; retrying (the plan goes on)", err=True)

    while True:
        plan = client.retrying(lambda: client.get(path), patience=RECONNECT_FOR,
                               on_wait=unreachable)["plan"]
        line = status_line(plan)
        if line != said:
            click.echo(line, err=True)
            said = line
        if plan["state"] in FINAL:
            return plan
        sleep(POLL)


def waited(client, plan: dict, as_json: bool) -> None:
    """`plan-exec --wait`: follow the plan to its end; exit non-zero unless it completed."""
    try:
        plan = wait_for_plan(client, plan)
    except KeyboardInterrupt:
        click.echo(f"\nStopped waiting; plan {plan['id']} goes on. Follow it with: "
                   f"fastpath sched plan-list {plan['id']}", err=True)
        raise SystemExit(130) from None
    emit_json({"status": "success", "plan": plan}) if as_json else click.echo(show(plan))
    if plan["state"] != PlanState.COMPLETED:
        raise SystemExit(int(ExitStatus.ERROR))


def _last_error(last: dict | None) -> str | None:
    return f"job {last['job']}: {last['error']}" if last else None


@click.command("plan-exec")
@click.argument("plan_file", metavar="PLAN.yaml",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--priority", type=click.IntRange(0, 10), default=5, show_default=True,
              help="Higher is served sooner.")
@click.option("--no-publish", is_flag=True, help="Do not publish the results to the resultstore.")
@click.option("--wait", is_flag=True, help="Show progress until the plan is final; exit 0 if "
              "it completed, 1 if it failed or was cancelled.")
@json_option
@client_command
def plan_exec(client, plan_file: Path, priority: int, no_publish: bool, wait: bool,
              as_json: bool) -> None:
    """Submit PLAN.yaml, uploading the local files it refers to.

    \b
    Examples:
      fastpath sched plan-exec demo-plan.yaml
      fastpath sched plan-exec demo-plan.yaml --priority 8 --wait
    """
    from fastpath.plan.schema import load_plan_file

    document, files = load_plan_file(plan_file)
    options = {"priority": priority, "publish": not no_publish}
    # before any byte of a file: token, capability, the plan and its SUT class
    checked = _dry_run(client, document, options)
    key = {"Idempotency-Key": uuid.uuid4().hex}  # a retry never queues the plan twice
    if checked:
        digests, _ = send_missing(client, files)
        doc = client.retrying(
            lambda: client.post("/plans", {"plan": by_digest(document, digests), **options}, key),
            patience=60, on_wait=_resending)
    else:  # a scheduler of an older release: the whole plan as one multipart upload
        doc = _multipart(client, document, files, options, key)
    plan = doc["plan"]
    if not as_json:
        click.echo(f"Plan {plan['id']} queued on SUT class {plan['sutclass']}: "
                   f"{plan['progress']['total']} jobs, priority {plan['priority']}"
                   + ("" if plan["publish"] else ", results not published"))
    if not wait:
        return emit_json(doc) if as_json else None
    waited(client, plan, as_json)


@click.command("plan-list")
@listing_options("Plans")
@watch_option
@json_option
@client_command
def plan_list(client, id, states, users, all_users, all_states, watch: bool, interval: float,
              as_json: bool) -> None:
    """List your queued and running plans, or show plan ID with its jobs.

    \b
    Examples:
      fastpath sched plan-list --all-users
      fastpath sched plan-list 7 --watch
    """
    def render() -> str:
        if id is not None:
            doc = client.get(f"/plans/{id}")
            return json_text(doc) if as_json else show(doc["plan"])
        doc = listed(client, "/plans", states, users, all_users, all_states)
        if as_json:
            return json_text(doc)
        rows = [[p["id"], p["user"], p["sutclass"], p["priority"], progress(p), p["state"],
                 p["progress"]["failed"], p["progress"]["errors"],
                 (p.get("queue") or {}).get("position"), eta((p.get("queue") or {}).get("eta")),
                 when(p["queued_at"]), when(p["started_at"]), when(p["completed_at"])]
                for p in doc["plans"]]
        return table(LIST_HEADERS, rows)

    if watch:
        return watch_loop(render, interval)
    click.echo(render())


@click.command("plan-update")
@click.argument("id", type=click.IntRange(min=1))
@click.option("--priority", type=click.IntRange(0, 10), required=True,
              help="The new priority (0-10, higher is served sooner).")
@json_option
@client_command
def plan_update(client, id: int, priority: int, as_json: bool) -> None:
    """Change the priority of a queued or running plan."""
    doc = client.patch(f"/plans/{id}", {"priority": priority})
    if as_json:
        return emit_json(doc)
    click.echo(f"Plan {id} priority is now {doc['plan']['priority']}.")


@click.command("plan-cancel")
@click.argument("id", type=click.IntRange(min=1))
@json_option
@client_command
def plan_cancel(client, id: int, as_json: bool) -> None:
    """Cancel a plan: queued jobs now; jobs already running finish."""
    doc = client.post(f"/plans/{id}/cancel")
    if as_json:
        return emit_json(doc)
    plan = doc["plan"]
    running = sum(j["state"] in HOLDING_JOB for j in plan.get("jobs") or [])
    click.echo(f"Plan {id} is {plan['state']}"
               + (f"; {running} running jobs will finish first." if running else "."))


COMMANDS = [plan_exec, plan_list, plan_update, plan_cancel]
