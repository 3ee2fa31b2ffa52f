"""`fastpath sched job-list PLAN` and `fastpath sched job-log JOB`: where a plan's time went."""

from __future__ import annotations

import click

from fastpath.cli.client import client_command
from fastpath.cli.output import emit_json, fields, json_option, table

JOB_HEADERS = ["job", "swprofile", "session", "state", "sut", "attempts", "steps", "results",
               "errors", "last error"]


def steps(job: dict) -> str | None:
    """`connect 0.3s, prepare 1.2s, run 3.4s+`: each recorded step, `+` for the one going on."""
    parts = [f"{s['step']} {s['seconds']:.1f}s" if s["seconds"] is not None else f"{s['step']}+"
             for s in job.get("steps") or []]
    return ", ".join(parts) or None


def show_log(job: dict, log: dict) -> str:
    pairs = [("Job", job["id"]), ("Plan", job["plan"]), ("State", job["state"]),
             ("SUT", job["sut"]), ("Swprofile", f"{job['swprofile']} session {job['session']}"),
             ("Attempts", job["attempts"]), ("Steps", steps(job)), ("Last error", job["last_error"])]
    text = fields(pairs)
    if not log["collected"]:
        return text + "\n\nNothing collected yet: the job's files reach the server when it ends."
    text += "\n\nDriver log:\n" + "\n".join("  " + line for line in log["driver_log"] or ["-"])
    for run in log["failed_runs"]:
        text += (f"\n\nFailed run: {run['benchmark']} {run['phase']} {run['index']}: "
                 f"exit status {run['exit']}: {run['message']}\n")
        text += "\n".join("  " + line for line in run["output"] or ["(no output)"])
    if not log["failed_runs"]:
        text += "\n\nNo benchmark run failed."
    return text


@click.command("job-list")
@click.argument("plan", type=click.IntRange(min=1))
@json_option
@client_command
def job_list(client, plan: int, as_json: bool) -> None:
    """List the jobs of plan PLAN: state, SUT, attempts, each step's time, errors.

    \b
    Example:
      fastpath sched job-list 7
      fastpath sched job-list 7 --json
    """
    doc = client.get(f"/plans/{plan}")
    jobs = doc["plan"].get("jobs") or []
    if as_json:
        return emit_json({"status": "success", "jobs": jobs})
    rows = [[j["id"], j["swprofile"], j["session"], j["state"], j["sut"], j["attempts"],
             steps(j), j["results"], j["errors"], j["last_error"]] for j in jobs]
    click.echo(table(JOB_HEADERS, rows))


@click.command("job-log")
@click.argument("job", type=click.IntRange(min=1))
@click.option("--lines", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Lines of output shown per failed run.")
@json_option
@client_command
def job_log(client, job: int, lines: int, as_json: bool) -> None:
    """Show job JOB's driver log, and each failed benchmark's exit status and last output.

    \b
    Example:
      fastpath sched job-log 12
      fastpath sched job-log 12 --lines 100 --json
    """
    doc = client.get(f"/jobs/{job}/log", lines=lines)
    if as_json:
        return emit_json(doc)
    click.echo(show_log(doc["job"], doc["log"]))


COMMANDS = [job_list, job_log]
