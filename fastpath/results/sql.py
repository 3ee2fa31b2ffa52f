"""Resultstores in SQLite and MySQL/MariaDB, through plain DB-API connections.

A publish is one transaction. Statistics are computed by the database, which
keeps memory flat however many results there are: SQLite in two passes
(means, then squared deviations from them), MariaDB in one (its VAR_SAMP is
a stable recurrence).
"""

from __future__ import annotations

import fnmatch
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from fastpath.errors import Invalid, Unavailable
from fastpath.results import schema
from fastpath.results.backend import Aggregate, Filters, ResultStore, masked


class SqlStore(ResultStore):
    conn: Any  # sqlite3's or PyMySQL's connection: the same DB-API calls on both

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url, self.depth = url, 0
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            self._open_sqlite(parts, create)
        else:
            self._open_mysql(parts, create)
        try:
            self._check(create)
        except BaseException:
            self.conn.close()
            raise

    # --- connecting ----------------------------------------------------------------

    def _open_sqlite(self, parts, create: bool) -> None:
        path = unquote(parts.path)[1:] if parts.path.startswith("/") else ""
        if parts.netloc or not path:
            raise Invalid(f"resultstore URL {self.url!r}: use sqlite:///file.db")
        if not create and not os.path.exists(path):
            raise Invalid(f"no resultstore at {path}")
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=wal")
        except sqlite3.Error as exc:
            raise Invalid(f"cannot open the resultstore {path}: {exc}") from exc
        self.mysql, self.ph, self.quote = False, "?", '"'

    def _open_mysql(self, parts, create: bool) -> None:
        try:
            import pymysql
        except ImportError as exc:  # an optional extra, as the scheduler's own drivers are
            raise Invalid("the pymysql driver is not installed, needed for a MySQL resultstore: "
                          "pip install 'fastpath-scheduler[mysql]'") from exc

        name = unquote(parts.path.lstrip("/"))
        if not name or not parts.hostname:
            raise Invalid(f"resultstore URL {self._safe()!r}: use mysql://user:password@host:port/db")
        args = dict(host=parts.hostname, port=parts.port or 3306, user=unquote(parts.username or ""),
                    password=unquote(parts.password or ""), charset="utf8mb4", autocommit=True,
                    connect_timeout=5)
        try:
            try:
                self.conn = pymysql.connect(database=name, **args)
            except pymysql.err.OperationalError as exc:
                if exc.args[0] != 1049 or not create:  # 1049: unknown database
                    raise
                with pymysql.connect(**args) as admin, admin.cursor() as cur:
                    cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
                self.conn = pymysql.connect(database=name, **args)
        except pymysql.err.OperationalError as exc:
            if exc.args[0] == 1049:
                raise Invalid(f"no resultstore at {self._safe()}: the database does not exist") from exc
            raise Unavailable(f"cannot reach the resultstore {self._safe()}: {exc.args[-1]}") from exc
        self.mysql, self.ph, self.quote = True, "%s", "`"

    def _safe(self) -> str:
        return masked(self.url)

    def q(self, name: str) -> str:
        return f"{self.quote}{name}{self.quote}"

    def _run(self, sql: str, args=(), many: bool = False):
        cur = self.conn.cursor()
        try:
            (cur.executemany if many else cur.execute)(sql, args)
        except Exception as exc:
            if _unavailable(exc):
                raise Unavailable(f"lost the resultstore {self._safe()}: {exc}") from exc
            raise
        return cur

    # --- schema --------------------------------------------------------------------------

    def _tables(self) -> set[str]:
        if self.mysql:
            return {r[0] for r in self._run("SHOW TABLES").fetchall()}
        return {r[0] for r in self._run("SELECT name FROM sqlite_master WHERE type='table'").fetchall()}

    def _check(self, create: bool) -> None:
        tables = self._tables()
        if "meta" not in tables:
            if tables:
                raise self._foreign(tables)
            if not create:
                raise Invalid(f"{self._safe()} is empty: not a resultstore yet")
            self._create()
        meta = {r["key"]: r["value"] for r in self._select("meta")}
        if not meta and self.mysql:  # its creator may not have written it yet: wait for it
            with self._creation_lock():
                meta = {r["key"]: r["value"] for r in self._select("meta")}
        if meta.get("format") != schema.MARK:
            raise Invalid(f"{self._safe()} holds a table 'meta' that is not a Fastpath resultstore's")
        version = int(meta.get("version", 0))
        if version > schema.VERSION:
            raise Invalid(f"{self._safe()} is a resultstore of a newer version "
                          f"({meta['version']} > {schema.VERSION}); upgrade fastpath")
        if version < schema.VERSION:
            with self._creation_lock():  # one upgrader at a time on MariaDB too
                self._upgrade(version)

    def _foreign(self, tables: set[str]) -> Invalid:
        return Invalid(f"{self._safe()} holds tables that are not a Fastpath resultstore: "
                       f"{', '.join(sorted(tables)[:5])}")

    def _create(self) -> None:
        """Create the tables, once, however many processes publish first at the same time.

        SQLite: BEGIN IMMEDIATE makes the creators take turns. MariaDB commits
        each DDL statement on its own, so there a named lock does.
        """
        with self._creation_lock(), self.transaction():
            tables = self._tables()  # again: another process may have made them meanwhile
            if "meta" in tables:
                return
            if tables:
                raise self._foreign(tables)
            for table, columns in schema.TABLES.items():
                cols = ", ".join(f"{self.q(c)} {self._type(table, c)}" for c in columns)
                key = ", ".join(self.q(c) for c in schema.KEYS[table])
                self._run(f"CREATE TABLE {self.q(table)} ({cols}, PRIMARY KEY ({key}))")
            self._indexes()
            self.put("meta", [{"key": "format", "value": schema.MARK},
                              {"key": "version", "value": str(schema.VERSION)}])

    @contextmanager
    def _creation_lock(self):
        if not self.mysql:
            yield
            return
        name = "fastpath-resultstore-" + unquote(urlsplit(self.url).path.lstrip("/"))[:40]
        if self._run("SELECT GET_LOCK(%s, 60)", (name,)).fetchone()[0] != 1:
            raise Unavailable(f"{self._safe()}: another process held the creation lock for 60 s")
        try:
            yield
        finally:
            self._run("SELECT RELEASE_LOCK(%s)", (name,))

    def _columns(self, table: str) -> set[str]:
        if self.mysql:
            return {r[0] for r in self._run(f"SHOW COLUMNS FROM {self.q(table)}").fetchall()}
        return {r[1] for r in self._run(f"PRAGMA table_info({self.q(table)})").fetchall()}

    def _indexes(self) -> None:
        if self.mysql:
            have = {r[2] for r in self._run(f"SHOW INDEX FROM {self.q('result')}").fetchall()}
        else:
            have = {r[0] for r in self._run("SELECT name FROM sqlite_master WHERE type='index'")}
        wanted = {**schema.INDEXES, **(schema.MYSQL_INDEXES if self.mysql else schema.SQLITE_INDEXES)}
        if not self.mysql:
            for name in schema.SQLITE_DROPPED:
                if name in have:
                    self._run(f"DROP INDEX {self.q(name)}")
        for name, (table, columns) in wanted.items():
            if name not in have:
                self._run(f"CREATE INDEX {self.q(name)} ON {self.q(table)} "
                          f"({', '.join(self.q(c) for c in columns)})")

    def _upgrade(self, version: int) -> None:
        """Add what versions after `version` added. Each step checks first, so an upgrade cut off
        half-way (MariaDB commits each ALTER on its own) runs again."""
        with self.transaction():
            for v in sorted(n for n in schema.UPGRADES if n > version):
                for table, columns in schema.UPGRADES[v].items():
                    have = self._columns(table)
                    for c in columns:
                        if c not in have:
                            self._run(f"ALTER TABLE {self.q(table)} ADD COLUMN {self.q(c)} "
                                      f"{self._type(table, c)}")
            self._indexes()
            self._run(f"UPDATE {self.q('meta')} SET {self.q('value')} = {self.ph} "
                      f"WHERE {self.q('key')} = {self.ph}", (str(schema.VERSION), "version"))

    def _type(self, table: str, column: str) -> str:
        kind = schema.column_type(table, column)
        if kind == "int":
            return "BIGINT"
        if kind == "real":
            return "DOUBLE"
        if kind == "long":
            return "LONGTEXT" if self.mysql else "TEXT"
        return "VARCHAR(255)" if self.mysql else "TEXT"

    # --- rows --------------------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        if self.depth == 0:
            self._run("START TRANSACTION" if self.mysql else "BEGIN IMMEDIATE")
        self.depth += 1
        try:
            yield
        except BaseException:
            self.depth -= 1
            if self.depth == 0:
                self.conn.rollback() if self.mysql else self._run("ROLLBACK")
            raise
        self.depth -= 1
        if self.depth == 0:
            self.conn.commit() if self.mysql else self._run("COMMIT")

    def _select(self, table: str, where: str = "", args=()) -> list[dict]:
        columns = schema.TABLES[table]
        cur = self._run(f"SELECT {', '.join(self.q(c) for c in columns)} FROM {self.q(table)} {where}", args)
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]

    def rows(self, table: str) -> list[dict]:
        return self._select(table)

    def put(self, table: str, rows: list[dict]) -> int:
        if not rows:
            return 0
        columns = schema.TABLES[table]
        verb = "INSERT IGNORE" if self.mysql else "INSERT OR IGNORE"
        sql = (f"{verb} INTO {self.q(table)} ({', '.join(self.q(c) for c in columns)}) "
               f"VALUES ({', '.join([self.ph] * len(columns))})")
        cur = self._run(sql, [tuple(r.get(c) for c in columns) for r in rows], many=True)
        return max(cur.rowcount, 0)

    def has_session(self, session_id: str) -> bool:
        for table in ("result", "error"):
            sql = f"SELECT 1 FROM {self.q(table)} WHERE {self.q('session_id')} = {self.ph} LIMIT 1"
            if self._run(sql, (session_id,)).fetchone():
                return True
        return False

    def put_session(self, session_id: str, results: list[dict], errors: list[dict]) -> int:
        with self.transaction():
            return self.put("result", results) + self.put("error", errors)

    def sessions(self) -> Iterator[tuple[str, list[dict], list[dict]]]:
        ids = set()
        for table in ("result", "error"):
            ids |= {r[0] for r in self._run(f"SELECT DISTINCT {self.q('session_id')} FROM {self.q(table)}")}
        where = f"WHERE {self.q('session_id')} = {self.ph}"
        for sid in sorted(ids):
            yield sid, self._select("result", where, (sid,)), self._select("error", where, (sid,))

    # --- analysis ------------------------------------------------------------------------------

    def _matching(self, table: str, glob: str | None, label) -> list[str] | None:
        if glob is None:
            return None
        return [r["id"] for r in self.rows(table) if fnmatch.fnmatchcase(label(r), glob)]

    def _where(self, filters: Filters, alias: str = "", *, table: str = "result"):
        """The WHERE clause of `filters` and its arguments, or None when nothing can match."""
        q, chosen = self.q, []
        for column, values in (
            ("swprofile", list(filters.swprofiles) or None),
            ("benchmark", self._matching("benchmark", filters.benchmark,
                                         lambda r: f"{r['suite']}/{r['name']}")),
            ("sut", self._matching("sut", filters.sut, lambda r: r["id"])),
            ("plan_id", list(filters.plans) or None),
        ):
            if values is not None:
                if not values:
                    return None
                chosen.append((column, values))
        conds = [f"{alias}{q(c)} IN ({', '.join([self.ph] * len(v))})" for c, v in chosen]
        args = [v for _, values in chosen for v in values]
        for op, when in ((">=", filters.since), ("<", filters.until)):
            if when is not None:
                conds.append(f"{alias}{q('timestamp')} {op} {self.ph}")
                args.append(when)
        return (f"WHERE {' AND '.join(conds)}" if conds else ""), args

    def aggregate(self, filters: Filters) -> list[Aggregate]:
        q = self.q
        plain, scoped = self._where(filters), self._where(filters, "r.")
        if plain is None or scoped is None:
            return []
        key = ("benchmark", "resultclass", "swprofile", "session_id")
        extra = ("sut", "plan_id", "job_id")  # one value per session
        if self.mysql:
            return self._aggregate_mysql(key, extra, *plain)
        group = ", ".join(q(c) for c in key)
        firsts = ", ".join(f"MIN({q(c)}) AS {q('x_' + c)}" for c in extra)
        means = (f"SELECT {group}, {firsts}, "
                 f"COUNT(*) AS n, AVG({q('value')}) AS mean, MIN({q('value')}) AS lo, "
                 f"MAX({q('value')}) AS hi FROM {q('result')} {plain[0]} GROUP BY {group}")
        join = " AND ".join(f"r.{q(c)} = g.{q(c)}" for c in key)
        outer = ", ".join([f"g.{q(c)}" for c in key] + [f"g.{q('x_' + c)}" for c in extra])
        deviation = f"(r.{q('value')} - g.mean)"
        sql = (f"SELECT {outer}, g.n, g.mean, SUM({deviation} * {deviation}), g.lo, g.hi "
               f"FROM ({means}) g JOIN {q('result')} r ON {join} {scoped[0]} "
               f"GROUP BY {outer}, g.n, g.mean, g.lo, g.hi")
        return [Aggregate(b, rc, sw, int(n), float(mean), float(m2 or 0.0), float(lo), float(hi),
                          sid, sut, plan, job)
                for b, rc, sw, sid, sut, plan, job, n, mean, m2, lo, hi
                in self._run(sql, plain[1] + scoped[1]).fetchall()]

    def _aggregate_mysql(self, key: tuple[str, ...], extra: tuple[str, ...], where: str,
                         args: list) -> list[Aggregate]:
        """One pass: MariaDB's VAR_SAMP is Welford's stable recurrence. Grouped by a digest of the
        key, because grouping by several VARCHAR(255) columns makes MariaDB sort every row on disk
        (24 s instead of 3.5 s for 1,000,000 results, bench/result_show.py)."""
        q = self.q
        cols = ", ".join(f"MIN({q(c)})" for c in (*key, *extra))
        digest = f"MD5(CONCAT_WS(CHAR(0), {', '.join(q(c) for c in key)}))"
        sql = (f"SELECT {cols}, COUNT(*), AVG({q('value')}), VAR_SAMP({q('value')}), "
               f"MIN({q('value')}), MAX({q('value')}) FROM {q('result')} {where} GROUP BY {digest}")
        return [Aggregate(b, rc, sw, int(n), float(mean), float(var or 0.0) * (int(n) - 1),
                          float(lo), float(hi), sid, sut, plan, job)
                for b, rc, sw, sid, sut, plan, job, n, mean, var, lo, hi
                in self._run(sql, args).fetchall()]

    def present(self, filters: Filters) -> set[tuple[str, int | None]]:
        clause = self._where(filters)
        if clause is None:
            return set()
        q = self.q
        sql = f"SELECT DISTINCT {q('swprofile')}, {q('plan_id')} FROM {q('result')} {clause[0]}"
        return {(sw, plan) for sw, plan in self._run(sql, clause[1]).fetchall()}

    def results(self, filters: Filters) -> list[dict]:
        clause = self._where(filters)
        return [] if clause is None else self._select("result", clause[0], clause[1])

    def errors(self, filters: Filters) -> list[dict]:
        clause = self._where(filters)
        if clause is None:
            return []
        return self._select("error", clause[0], clause[1])

    def close(self) -> None:
        self.conn.close()


def _unavailable(exc: Exception) -> bool:
    try:
        import pymysql
    except ImportError:  # pragma: no cover
        return False
    return (isinstance(exc, pymysql.err.OperationalError) and bool(exc.args)
            and exc.args[0] in (2003, 2006, 2013))
