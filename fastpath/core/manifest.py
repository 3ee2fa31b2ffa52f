"""A job's results manifest: what each benchmark run produced, or why it failed.

Pure: collected files in, records out. A run yields either result rows (one
per metric of its results.csv; kept only for repeats, warmups are discarded)
or exactly one error record: a timeout, a non-zero exit, an interrupted run,
or a missing or malformed results.csv.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1
HEADER = ["resultclass", "value", "unit", "improvement"]
ERR_TIMEOUT = 124
ERR_NO_RESULTS = 200
ERR_BAD_RESULTS = 201
ERR_INTERRUPTED = 202


@dataclass(frozen=True)
class Outcome:
    rows: list[dict]  # {resultclass, value, unit, improvement}
    error: tuple[int, str] | None = None  # (code, message)


def outcome(exit_text: str | None, results_csv: str | None, timeout: float) -> Outcome:
    """Classify one run from its `exit` file and its results.csv text."""
    code = (exit_text or "").strip()
    if code == "interrupted":
        return Outcome([], (ERR_INTERRUPTED, "the run was interrupted (its driver stopped) "
                                             "and was not started again"))
    if not code.lstrip("-").isdigit():
        return Outcome([], (ERR_INTERRUPTED, "the run left no exit status"))
    status = int(code)
    if status in (124, 137):  # timeout(1): timed out, or had to be killed after it
        return Outcome([], (ERR_TIMEOUT, f"timed out after {timeout:g}s"))
    if status != 0:
        return Outcome([], (status, f"the container exited with status {status}"))
    if results_csv is None:
        return Outcome([], (ERR_NO_RESULTS, "the container wrote no /fastpath-share/results.csv"))
    try:
        return Outcome(parse_results(results_csv))
    except ValueError as exc:
        return Outcome([], (ERR_BAD_RESULTS, f"malformed results.csv: {exc}"))


def parse_results(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != HEADER:
        raise ValueError(f"expected the header {','.join(HEADER)}")
    rows = []
    for n, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 4:
            raise ValueError(f"line {n}: expected 4 fields, got {len(row)}")
        name, value, unit, improvement = (cell.strip() for cell in row)
        if not name or len(name) > 200:
            raise ValueError(f"line {n}: empty or overlong resultclass")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"line {n}: value {value[:40]!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"line {n}: value {value!r} is not finite")
        if improvement not in ("bigger", "smaller"):
            raise ValueError(f"line {n}: improvement must be bigger or smaller")
        rows.append({"resultclass": name, "value": number, "unit": unit[:100],
                     "improvement": improvement})
    if not rows:
        raise ValueError("no result rows")
    return rows


def read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return None


def records(runs: list, benchmarks: list[dict], collected: Path, when: str) -> tuple[list, list]:
    """(results, errors) of a job's runs from what `collect` copied into `collected`.

    `runs` are the job's runs in order (`fastpath.plan.split.Run`), their
    index in that list naming their directory.
    """
    results, errors = [], []
    for i, run in enumerate(runs):
        d = collected / "runs" / f"{i:04d}"
        bench = benchmarks[run.benchmark]
        got = outcome(read(d / "exit"), read(d / "results.csv"), bench["timeout"])
        if got.error is not None:
            code, message = got.error
            errors.append({"benchmark": run.benchmark, "phase": run.phase, "index": run.index,
                           "timestamp": when, "code": code, "message": message,
                           "log": f"runs/{i:04d}/output.log"})
        elif run.phase == "repeat":
            results += [{"benchmark": run.benchmark, "repeat": run.index, **row} for row in got.rows]
    return results, errors


def last_error(errors: list[dict], benchmarks: list[dict]) -> str | None:
    """The last error record in words: which benchmark run, and what happened."""
    if not errors:
        return None
    e = errors[-1]
    b = benchmarks[e["benchmark"]]
    return f"{b['suite']}/{b['name']} {e['phase']} {e['index']}: {e['message']}"
