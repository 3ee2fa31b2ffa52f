"""Opening a resultstore by URL, and what every format shares: publishing and merging.

    csv:///dir (or a bare directory)   sqlite:///file.db   mysql://user:password@host:port/db

A backend stores rows; this module decides which objects a job's manifest
becomes (see `schema`), so publishing means the same in every format.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastpath.errors import Invalid
from fastpath.results import schema


@dataclass
class Aggregate:
    """One group of results: a benchmark's result class on a swprofile, in one session.

    Stores aggregate per session (one boot of one job), the unit of
    replication; `fastpath.results.analysis` combines the sessions.
    """

    benchmark: str
    resultclass: str
    swprofile: str
    count: int
    mean: float
    m2: float  # sum of squared deviations from the mean
    min: float
    max: float
    session: str | None = None
    sut: str | None = None
    plan_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class Filters:
    swprofiles: tuple[str, ...] = ()  # exact IDs; empty: all
    benchmark: str | None = None  # glob on suite/name
    sut: str | None = None  # glob on the SUT ID
    plans: tuple[int, ...] = ()  # plan IDs; empty: all
    since: str | None = None  # collected at or after (YYYY-MM-DDTHH:MM:SSZ)
    until: str | None = None  # collected before

    def keeps(self, row: dict) -> bool:
        """Whether a result or error row passes the plan and time filters."""
        if self.plans and row.get("plan_id") not in self.plans:
            return False
        when = row.get("timestamp")
        if self.since is not None and (when is None or when < self.since):
            return False
        return self.until is None or (when is not None and when < self.until)


class ResultStore:
    """What every format provides; subclasses implement the row-level methods."""

    url: str

    # --- row-level interface of a backend ------------------------------------------

    def rows(self, table: str) -> list[dict]:  # objects: sut, swprofile, benchmark, resultclass
        raise NotImplementedError

    def put(self, table: str, rows: list[dict]) -> int:  # insert objects that are new; how many
        raise NotImplementedError

    def has_session(self, session_id: str) -> bool:
        raise NotImplementedError

    def put_session(self, session_id: str, results: list[dict], errors: list[dict]) -> int:
        """Add one session's results and errors at once; the number of rows added."""
        raise NotImplementedError

    def sessions(self) -> Iterator[tuple[str, list[dict], list[dict]]]:
        raise NotImplementedError

    def aggregate(self, filters: Filters) -> list[Aggregate]:
        """One Aggregate per (benchmark, resultclass, swprofile, session) of the matching results."""
        raise NotImplementedError

    def errors(self, filters: Filters) -> list[dict]:
        """The error rows matching `filters` (swprofiles, SUT, plans, time)."""
        raise NotImplementedError

    def results(self, filters: Filters) -> list[dict]:
        """The result rows matching `filters`."""
        raise NotImplementedError

    def present(self, filters: Filters) -> set[tuple[str, int | None]]:
        """The (swprofile, plan_id) pairs of the results matching `filters`."""
        raise NotImplementedError

    @contextmanager
    def transaction(self):
        yield

    def close(self) -> None:
        pass

    # --- shared ------------------------------------------------------------------------

    def publish(self, manifest: dict) -> int:
        """Add one job's results (its manifest); idempotent. Returns the rows added."""
        with self.transaction():
            sid = manifest["session_id"]
            if self.has_session(sid):
                return 0
            sut = self._resolve("sut", schema.sut_row(manifest["sut"]))
            sw = self._resolve("swprofile", schema.swprofile_row(manifest["swprofile"]))
            benches = [schema.benchmark_row(b) for b in manifest["benchmarks"]]
            self._new("benchmark", benches)
            classes = {(benches[r["benchmark"]]["id"], r["resultclass"]):
                       {"benchmark": benches[r["benchmark"]]["id"], "name": r["resultclass"],
                        "unit": r.get("unit") or None, "improvement": r.get("improvement")}
                       for r in manifest["results"]}
            self._new("resultclass", list(classes.values()))
            common = {"session_id": sid, "sut": sut, "swprofile": sw}
            # when the results were collected; manifests before it had only the errors' time
            when = manifest.get("collected_at") or next(
                (e["timestamp"] for e in manifest["errors"]), None)
            results = [{**common, "benchmark": benches[r["benchmark"]]["id"],
                        "resultclass": r["resultclass"], "repeat": r["repeat"], "value": r["value"],
                        "job_id": manifest.get("job_id"), "plan_id": manifest.get("plan_id"),
                        "timestamp": when}
                       for r in manifest["results"]]
            errors = [{**common, "benchmark": benches[e["benchmark"]]["id"], "phase": e["phase"],
                       "idx": e["index"], "timestamp": e["timestamp"], "code": e["code"],
                       "message": e["message"], "job_id": manifest.get("job_id"),
                       "plan_id": manifest.get("plan_id")} for e in manifest["errors"]]
            if manifest.get("placement") and manifest.get("plan_id") is not None:
                self._new("meta", [{"key": note_key(manifest["plan_id"], manifest.get("job_id")),
                                    "value": manifest["placement"]}])
            return self.put_session(sid, results, errors)

    def notes(self, plans: set) -> dict[int, list[str]]:
        """plan id -> the placement notes its jobs published (a `same` plan that fell back)."""
        out: dict[int, list[str]] = {}
        for row in self.rows("meta"):
            parts = row["key"].split(":")
            if parts[0] == NOTE and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in plans:
                out.setdefault(int(parts[1]), []).append(row["value"])
        return {plan: sorted(set(v)) for plan, v in out.items()}

    def _resolve(self, kind: str, row: dict) -> str:
        id, new = schema.resolve(kind, row, self.rows(kind))
        if new:
            self.put(kind, [{"id": id, **row}])
        return id

    def _new(self, kind: str, rows: list[dict]) -> None:
        keys = schema.KEYS[kind]
        have = {tuple(r[k] for k in keys) for r in self.rows(kind)}
        fresh = {tuple(r[k] for k in keys): r for r in rows if tuple(r[k] for k in keys) not in have}
        if fresh:
            self.put(kind, list(fresh.values()))

    def merge_from(self, source: ResultStore) -> int:
        """Copy everything of `source` into this store; idempotent. Returns the rows added."""
        ids: dict[str, dict[str, str]] = {"sut": {}, "swprofile": {}}
        added = 0
        with self.transaction():
            for kind in ("sut", "swprofile"):
                for row in source.rows(kind):
                    ids[kind][row["id"]] = self._resolve(kind, {k: v for k, v in row.items() if k != "id"})
            self._new("benchmark", source.rows("benchmark"))
            self._new("resultclass", source.rows("resultclass"))
            self._new("meta", [r for r in source.rows("meta") if r["key"].startswith(f"{NOTE}:")])
        for sid, results, errors in source.sessions():
            with self.transaction():
                if self.has_session(sid):
                    continue
                for row in (*results, *errors):
                    row["sut"] = ids["sut"][row["sut"]]
                    row["swprofile"] = ids["swprofile"][row["swprofile"]]
                added += self.put_session(sid, results, errors)
        return added


NOTE = "placement"  # meta keys `placement:<plan>:<job>`: why a job ran where it did


def note_key(plan_id: int, job_id: int | None) -> str:
    return f"{NOTE}:{plan_id}:{job_id or 0}"


def masked(url: str) -> str:
    """`url` with its password, if any, as ***: safe to print."""
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@", 1) if parts.password else url


def open_store(url: str, *, create: bool = False) -> ResultStore:
    """Open the resultstore at `url`; with `create`, make it if it does not exist."""
    if not isinstance(url, str) or not url.strip():
        raise Invalid("resultstore URL: empty")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "csv") and "://" not in url or scheme == "csv":
        from fastpath.results.csvstore import CsvStore

        path = url[len("csv://"):] if scheme == "csv" else url
        if scheme == "csv" and not path.startswith("/"):
            raise Invalid(f"resultstore URL {url!r}: use csv:///absolute/dir or a plain directory path")
        return CsvStore(os.path.abspath(path), url=url, create=create)
    if scheme in ("sqlite", "mysql"):
        from fastpath.results.sql import SqlStore

        return SqlStore(url, create=create)
    raise Invalid(f"resultstore URL {url!r}: unknown scheme {scheme!r}; use csv:///dir, "
                  "sqlite:///file.db or mysql://user:password@host:port/db")
