"""Scratch databases on the machine's real PostgreSQL and MariaDB servers.

Each scratch database has a random name and is dropped afterwards. A server
that cannot be reached is a test failure, never a skip: CI starts both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_HOST = os.environ.get("FASTPATH_TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("FASTPATH_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("FASTPATH_TEST_PG_PASSWORD", "")
MYSQL_HOST = os.environ.get("FASTPATH_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_USER = os.environ.get("FASTPATH_TEST_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("FASTPATH_TEST_MYSQL_PASSWORD", "")


def _auth(user: str, password: str) -> str:
    return f"{user}:{password}" if password else user

KINDS = ("sqlite", "postgresql", "mysql")


def _pg_admin():
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, user=PG_USER, password=PG_PASSWORD or None, dbname="postgres")
    conn.autocommit = True
    return conn


def _mysql_admin():
    import pymysql

    return pymysql.connect(host=MYSQL_HOST, user=MYSQL_USER, password=MYSQL_PASSWORD, autocommit=True)


@contextmanager
def scratch_database(kind: str, tmp_dir: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of `kind`; drop it afterwards."""
    name = "fp_test_" + uuid.uuid4().hex[:12]
    if kind == "sqlite":
        import tempfile

        with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
            yield f"sqlite:///{d}/{name}.db"
        return
    if kind == "postgresql":
        admin = _pg_admin()
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql://{_auth(PG_USER, PG_PASSWORD)}@{PG_HOST}:5432/{name}"
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        return
    if kind == "mysql":
        admin = _mysql_admin()
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        try:
            yield f"mysql://{_auth(MYSQL_USER, MYSQL_PASSWORD)}@{MYSQL_HOST}:3306/{name}"
        finally:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            admin.close()
        return
    raise ValueError(f"unknown database kind {kind!r}")
