"""A resultstore in a directory of CSV files.

    meta.csv sut.csv swprofile.csv benchmark.csv resultclass.csv
    sessions/<session id>/result.csv, error.csv

Object files are rewritten whole (to a temporary file, then renamed); each
session's results appear at once, as a directory renamed into place, so a
crash never leaves half a job visible and a re-publish finds it done. An
empty field is None; floats are written exactly (repr). Writers hold a lock
file, so two processes can publish to one directory.
"""

from __future__ import annotations

import csv
import fcntl
import fnmatch
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastpath.errors import Invalid
from fastpath.results import schema
from fastpath.results.backend import Aggregate, Filters, ResultStore


def _decode(kind: str, text: str):
    if text == "":
        return None
    return int(text) if kind == "int" else float(text) if kind == "real" else text


def _encode(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class CsvStore(ResultStore):
    def __init__(self, path: str, *, url: str, create: bool = False) -> None:
        self.root, self.url, self._lock, self.depth = Path(path), url, None, 0
        self.sessions_dir = self.root / "sessions"
        meta = self.root / "meta.csv"
        if not meta.exists():
            if self.root.exists() and not self.root.is_dir():
                raise Invalid(f"{self.root} is a file, not a resultstore directory")
            if not create:
                self._refuse_foreign()
                raise Invalid(f"no resultstore at {self.root}")
            self.root.mkdir(parents=True, exist_ok=True)
            with self.transaction():
                if not meta.exists():  # another creator may have finished while we waited
                    self._refuse_foreign()
                    for table in schema.OBJECTS:
                        self._write(self.root / f"{table}.csv", table, [])
                    self._write(meta, "meta", [{"key": "format", "value": schema.MARK},
                                               {"key": "version", "value": str(schema.VERSION)}])
        values = {r["key"]: r["value"] for r in self._read(meta, "meta")}
        if values.get("format") != schema.MARK:
            raise Invalid(f"{self.root} has a meta.csv that is not a Fastpath resultstore's")
        version = int(values.get("version") or 0)
        if version > schema.VERSION:
            raise Invalid(f"{self.root} is a resultstore of a newer version; upgrade fastpath")
        if version < schema.VERSION:
            # files of older versions are read as they are (missing columns are empty);
            # object files get the new columns when next rewritten
            with self.transaction():
                kept = [r for r in self._read(meta, "meta") if r["key"] not in ("format", "version")]
                self._write(meta, "meta", [{"key": "format", "value": schema.MARK},
                                           {"key": "version", "value": str(schema.VERSION)}, *kept])

    def _refuse_foreign(self) -> None:
        # dot files are ours: the lock, and files being written
        if self.root.exists() and any(not p.name.startswith(".") for p in self.root.iterdir()):
            raise Invalid(f"{self.root} holds files that are not a Fastpath resultstore")

    # --- files ---------------------------------------------------------------------

    def _read(self, path: Path, table: str) -> Iterator[dict]:
        columns = schema.TABLES[table]
        kinds = [schema.column_type(table, c) for c in columns]
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            known = {tuple(schema.columns_of(table, v)) for v in range(1, schema.VERSION + 1)}
            if header is None or tuple(header) not in known:
                raise Invalid(f"{path}: unexpected columns {header}; expected {list(columns)}")
            if len(header) != len(columns):  # a file of an older version
                kind = dict(zip(columns, kinds, strict=True))
                for row in reader:
                    got = {c: _decode(kind[c], v) for c, v in zip(header, row, strict=True)}
                    yield {c: got.get(c) for c in columns}
                return
            for row in reader:
                yield {c: _decode(k, v) for c, k, v in zip(columns, kinds, row, strict=True)}

    def _write(self, path: Path, table: str, rows: list[dict]) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(schema.TABLES[table])
                for row in rows:
                    writer.writerow([_encode(row.get(c)) for c in schema.TABLES[table]])
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @contextmanager
    def transaction(self):
        """Writers take the directory's lock in turn."""
        if self.depth == 0:
            self._lock = open(self.root / ".lock", "w")  # noqa: SIM115 (held across the block)
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                self._lock.close()

    # --- rows ------------------------------------------------------------------------------

    def rows(self, table: str) -> list[dict]:
        return list(self._read(self.root / f"{table}.csv", table))

    def put(self, table: str, rows: list[dict]) -> int:
        existing = self.rows(table)
        if table == "meta":  # keys are unique: the first value stays, as in SQL's INSERT IGNORE
            have = {r["key"] for r in existing}
            rows = [r for r in rows if r["key"] not in have]
        self._write(self.root / f"{table}.csv", table, existing + rows)
        return len(rows)

    def has_session(self, session_id: str) -> bool:
        return (self.sessions_dir / session_id).is_dir()

    def put_session(self, session_id: str, results: list[dict], errors: list[dict]) -> int:
        self.sessions_dir.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.sessions_dir, prefix=f".{session_id}."))
        try:
            self._write(tmp / "result.csv", "result", results)
            self._write(tmp / "error.csv", "error", errors)
            try:
                os.rename(tmp, self.sessions_dir / session_id)
            except OSError:  # published meanwhile: it is there already
                return 0
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return len(results) + len(errors)

    def _session_dirs(self) -> list[Path]:
        if not self.sessions_dir.is_dir():
            return []
        return sorted(p for p in self.sessions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def sessions(self) -> Iterator[tuple[str, list[dict], list[dict]]]:
        for d in self._session_dirs():
            yield (d.name, list(self._read(d / "result.csv", "result")),
                   list(self._read(d / "error.csv", "error")))

    def aggregate(self, filters: Filters) -> list[Aggregate]:
        benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in self.rows("benchmark")}
        groups: dict[tuple, list] = {}
        for d in self._session_dirs():
            for r in self._read(d / "result.csv", "result"):
                if not self._keeps(r, filters, benches):
                    continue
                key = (r["benchmark"], r["resultclass"], r["swprofile"], r["session_id"], r["sut"],
                       r["plan_id"], r["job_id"])
                g = groups.setdefault(key, [0, 0.0, 0.0, r["value"], r["value"]])
                x = r["value"]
                g[0] += 1  # Welford: one pass, no cancellation
                delta = x - g[1]
                g[1] += delta / g[0]
                g[2] += delta * (x - g[1])
                g[3], g[4] = min(g[3], x), max(g[4], x)
        return [Aggregate(b, rc, sw, n, mean, m2, lo, hi, sid, sut, plan, job)
                for (b, rc, sw, sid, sut, plan, job), (n, mean, m2, lo, hi) in groups.items()]

    @staticmethod
    def _keeps(r: dict, filters: Filters, benches: dict[str, str]) -> bool:
        if filters.swprofiles and r["swprofile"] not in filters.swprofiles:
            return False
        if filters.benchmark and not fnmatch.fnmatchcase(benches[r["benchmark"]], filters.benchmark):
            return False
        if filters.sut and not fnmatch.fnmatchcase(r["sut"], filters.sut):
            return False
        return filters.keeps(r)

    def present(self, filters: Filters) -> set[tuple[str, int | None]]:
        benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in self.rows("benchmark")}
        return {(r["swprofile"], r["plan_id"]) for d in self._session_dirs()
                for r in self._read(d / "result.csv", "result") if self._keeps(r, filters, benches)}

    def results(self, filters: Filters) -> list[dict]:
        benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in self.rows("benchmark")}
        return [r for d in self._session_dirs() for r in self._read(d / "result.csv", "result")
                if self._keeps(r, filters, benches)]

    def errors(self, filters: Filters) -> list[dict]:
        benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in self.rows("benchmark")}
        return [r for d in self._session_dirs() for r in self._read(d / "error.csv", "error")
                if self._keeps(r, filters, benches)]
