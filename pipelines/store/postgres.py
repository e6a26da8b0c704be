"""PostgreSQL: the store's operations on a server (``[store] url = "postgresql://..."``).

The seam has two parts (the second in ``pg_ops``):

- :class:`PgDatabase`, the connection, speaks the statements the operations share with
  SQLite. It takes them as written for SQLite and rewrites only their syntax, once per
  statement: ``?`` and ``:name`` parameters, ``[column]`` quoting, ``IS NOT ?``, and the
  verbs ``INSERT OR IGNORE`` (``ON CONFLICT DO NOTHING``) and ``INSERT OR REPLACE`` (an
  upsert that rewrites every column, as SQLite's REPLACE does). An insert into a table
  with an ``id`` identity returns it (``RETURNING id``: the cursor's ``lastrowid``).
- :class:`PostgresOps` overrides the operations whose SQL differs in more than syntax:
  JSON (``json_each`` -> ``json_array_elements``), the outbox's summary, the claim of a
  delivery (``FOR UPDATE SKIP LOCKED``), the shingle lookups (``= ANY(array)``), the
  catalog (``information_schema``), full-text search (``tsvector``).

SQLite's own path is untouched by any of this. Every error of the server (down, a wrong
password, a missing database, a full disk) becomes one :class:`StoreError` naming the
database as ``postgresql://user@host:port/db``, never with the password.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg.adapt import Buffer, Loader
from psycopg.pq import TransactionStatus

from pipelines.clock import utcnow
from pipelines.store.base import StoreError

log = logging.getLogger(__name__)

STORE_PASSWORD_ENV = "NEWSWATCH_STORE_PASSWORD"  # as pipelines/config/cluster.py names it
CONNECT_TIMEOUT_SECONDS = 10
# The pass lock: a session-level advisory lock on these two keys ("nw", 1), per database.
PASS_LOCK_KEYS = (0x6E77, 1)
# Migrations run under this transaction-level advisory lock: two processes opening a new
# database at once do not both create its tables.
MIGRATION_LOCK_KEYS = (0x6E77, 2)


def display_name(url: str) -> str:
    """``postgresql://user@host:port/db``: how errors and messages name the database."""
    parts = urlsplit(url)
    user = unquote(parts.username or "") or os.environ.get("PGUSER") or getpass.getuser()
    host = parts.hostname or os.environ.get("PGHOST") or "localhost"
    port = parts.port or int(os.environ.get("PGPORT") or 5432)
    database = unquote(parts.path.lstrip("/")) or os.environ.get("PGDATABASE") or user
    return f"postgresql://{user}@{host}:{port}/{database}"


def pg_cause(exc: BaseException, secret: str | None = None) -> str:
    """The server's reason in one line a user acts on (never the password)."""
    state = getattr(exc, "sqlstate", None)
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if state == "53100" or "No space left on device" in text:
        reason = "the server's disk is full"
    elif "password authentication failed" in text or state == "28P01":
        found = re.search(r'password authentication failed for user "[^"]*"', text)
        reason = (found.group() if found else "password authentication failed") + (
            f" (the password comes from {STORE_PASSWORD_ENV}, else PGPASSWORD or ~/.pgpass)"
        )
    elif "no password supplied" in text:
        reason = f"the server asks for a password: set {STORE_PASSWORD_ENV}"
    elif (found := re.search(r'database "[^"]*" does not exist', text)) is not None:
        reason = found.group()
    elif "Connection refused" in text:
        reason = "cannot connect: connection refused (is the server running?)"
    elif "timeout expired" in text:
        reason = "cannot connect: no answer from the server in time"
    elif isinstance(exc, psycopg.OperationalError) and "connection" in text.lower():
        reason = f"connection lost or refused: {text}"
    else:
        reason = text or type(exc).__name__
    if secret:
        reason = reason.replace(secret, "***")
    return reason


class _NumberLoader(Loader):
    """``numeric`` (what ``sum()`` of integers gives) as int, or float: not Decimal,
    as SQLite gives."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else float(text)


@dataclass(frozen=True)
class _TableInfo:
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns
    identity: bool  # an ``id`` filled by the database


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+(\w+)", re.IGNORECASE)
_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_BRACKETED = re.compile(r"\[(\w+)\]")
_IS_NOT_PARAM = re.compile(r"\bIS\s+NOT\s+\?", re.IGNORECASE)


@lru_cache(maxsize=2048)
def _syntax(statement: str) -> str:
    """SQLite's parameter and quoting syntax in psycopg's (string literals untouched)."""
    out: list[str] = []
    position = 0
    for literal in _LITERAL.finditer(statement):
        out.append(_outside_literals(statement[position : literal.start()]))
        out.append(literal.group().replace("%", "%%"))
        position = literal.end()
    out.append(_outside_literals(statement[position:]))
    return "".join(out)


def _outside_literals(part: str) -> str:
    part = part.replace("%", "%%")
    part = _IS_NOT_PARAM.sub("IS DISTINCT FROM ?", part)
    part = part.replace("?", "%s")
    part = _NAMED.sub(r"%(\1)s", part)
    return _BRACKETED.sub(r'"\1"', part)


def _value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)  # SQLite keeps booleans as 0/1, and so do the columns here
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "")  # PostgreSQL's text holds no NUL character
    return value


def _params(params: Any) -> Any:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


class PgCursor:
    """What the operations read of a cursor: rows, ``rowcount``, ``lastrowid``."""

    def __init__(self, cursor: psycopg.ClientCursor[Any], returning: bool) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        if returning:
            row = cursor.fetchone()
            self.lastrowid = None if row is None else int(row[0])

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class _Connection:
    """The part of ``sqlite3.Connection`` the operations use (``db.conn``)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return self._db.pg.info.transaction_status != TransactionStatus.IDLE

    def execute(self, statement: str, params: Any = None) -> PgCursor:
        return self._db.execute(statement, params)

    def executemany(self, statement: str, rows: Iterable[Any]) -> None:
        self._db.executemany(statement, rows)


class PgDatabase:
    """One PostgreSQL connection (autocommit outside :meth:`transaction`), presenting the
    part of ``sqlite_utils.Database`` the store's shared operations call."""

    def __init__(self, pg: psycopg.Connection[Any], name: str, secret: str | None) -> None:
        self.pg = pg
        self.name = name
        self._secret = secret
        self._tables: dict[str, _TableInfo] = {}
        self._statements: dict[tuple[str, bool], tuple[str, bool]] = {}
        self.conn = _Connection(self)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """The server's errors as one StoreError naming the database."""
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"{self.name}: {pg_cause(exc, self._secret)}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All of it or nothing; nested: the outer transaction decides."""
        if self.conn.in_transaction:
            yield
            return
        with self.errors(), self.pg.transaction():
            yield

    def _table(self, name: str) -> _TableInfo:
        if name not in self._tables:
            rows = self.pg.execute(
                "SELECT a.attname, a.attidentity <> '', coalesce(i.indisprimary, false)"
                " FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid"
                " AND i.indisprimary AND a.attnum = ANY(i.indkey)"
                " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped"
                " ORDER BY a.attnum",
                [name],
            ).fetchall()
            self._tables[name] = _TableInfo(
                tuple(str(r[0]) for r in rows),
                tuple(str(r[0]) for r in rows if r[2]),
                any(r[0] == "id" and r[1] for r in rows),
            )
        return self._tables[name]

    def forget_tables(self) -> None:
        """After a change of schema: read the catalog again."""
        self._tables.clear()
        self._statements.clear()

    def translate(self, statement: str, many: bool = False) -> tuple[str, bool]:
        """The statement for PostgreSQL, and whether it returns the new row's id."""
        key = (statement, many)
        if key not in self._statements:
            text = _syntax(statement)
            returning = False
            found = _INSERT.match(text)
            if found is not None:
                verb, name = (found.group(1) or "").upper(), found.group(2)
                text = f"INSERT INTO {name}{text[found.end() :]}"
                info = self._table(name)
                if verb == "IGNORE":
                    text += " ON CONFLICT DO NOTHING"
                elif verb == "REPLACE":
                    text += self._replacing(info)
                if info.identity and not many and "RETURNING" not in text.upper():
                    text += " RETURNING id"
                    returning = True
            self._statements[key] = (text, returning)
        return self._statements[key]

    def _replacing(self, info: _TableInfo) -> str:
        """SQLite's REPLACE: the row that was there is rewritten whole (a column the
        statement does not name gets its default, as in a new row)."""
        key = sql.SQL(", ").join(map(sql.Identifier, info.key))
        changes = sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
            for c in info.columns
            if c not in info.key
        )
        clause = sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(key, changes)
        return clause.as_string(self.pg).replace("%", "%%")

    def execute(self, statement: str, params: Any = None) -> PgCursor:
        with self.errors():
            text, returning = self.translate(statement)
            cursor = cast("psycopg.ClientCursor[Any]", self.pg.cursor())
            cursor.execute(text, _params(params))
            return PgCursor(cursor, returning)

    def executemany(self, statement: str, rows: Iterable[Any]) -> None:
        batch = [_params(r) for r in rows]
        if not batch:
            return
        with self.errors():
            text, _ = self.translate(statement, many=True)
            self.pg.cursor().executemany(text, batch)

    def query(self, statement: str, params: Any = None) -> Iterator[dict[str, Any]]:
        cursor = self.execute(statement, params)
        names = [c.name for c in cursor.description or ()]
        for row in cursor.fetchall():
            yield dict(zip(names, row, strict=True))

    def table_names(self) -> list[str]:
        rows = self.pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [str(r[0]) for r in rows]

    def view_names(self) -> list[str]:
        rows = self.pg.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema ="
            " current_schema() ORDER BY table_name"
        )
        return [str(r[0]) for r in rows]

    def columns(self, table: str) -> tuple[str, ...]:
        return self._table(table).columns

    def close(self) -> None:
        self.pg.close()


def connect(url: str, *, password: str | None = None, purpose: str = "newswatch") -> PgDatabase:
    """A connection to ``url``; the password from the argument, else NEWSWATCH_STORE_PASSWORD,
    else libpq's own (PGPASSWORD, ~/.pgpass)."""
    name = display_name(url)
    secret = password if password is not None else os.environ.get(STORE_PASSWORD_ENV) or None
    try:
        pg = psycopg.connect(
            url,
            password=secret,
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=purpose[:63],
        )
    except psycopg.Error as exc:
        raise StoreError(f"{name}: {pg_cause(exc, secret)}") from None
    pg.adapters.register_loader("numeric", _NumberLoader)
    return PgDatabase(pg, name, secret)


@contextmanager
def advisory_pass_lock(url: str, refusal: Callable[[str, str], str]) -> Iterator[None]:
    """One pass at a time per database: a session-level advisory lock, held by a
    connection of its own for the whole pass. The server drops it when that session ends,
    however the pass ends, so a killed pass never blocks the next one."""
    from pipelines.store.lock import PassRunning

    who = f"pid {os.getpid()} on {socket.gethostname()}, started {utcnow()}"
    db = connect(url, purpose=f"newswatch pass: {who}")
    try:
        with db.errors():
            got = db.pg.execute("SELECT pg_try_advisory_lock(%s, %s)", PASS_LOCK_KEYS).fetchone()
            if not (got and got[0]):
                holder = db.pg.execute(
                    "SELECT s.application_name FROM pg_locks l JOIN pg_stat_activity s"
                    " ON s.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                    " AND l.classid = %s AND l.objid = %s AND l.objsubid = 2"
                    " AND l.database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())",
                    PASS_LOCK_KEYS,
                ).fetchone()
                name = str(holder[0]) if holder and holder[0] else ""
                held_by = name.removeprefix("newswatch pass: ") or "a session that left no record"
                raise PassRunning(refusal(db.name, held_by))
        yield
    finally:
        db.close()  # the session ends: the lock is released


def probe_postgres(url: str) -> set[str]:
    """The migrations applied to the PostgreSQL dataset at ``url``, once a read-write
    transaction started there and was rolled back (``newswatch doctor``: it neither
    creates the tables nor migrates them). Raises StoreError naming the database when the
    server cannot be reached, refuses the login, or takes no writes (a read-only replica,
    a login without the right to write the tables)."""
    db = connect(url, purpose="newswatch doctor")
    try:
        with db.errors():
            known = db.pg.execute("SELECT to_regclass('_migrations') IS NOT NULL").fetchone()
            applied = (
                {str(r[0]) for r in db.pg.execute("SELECT name FROM _migrations")}
                if known and known[0]
                else set()
            )
            with db.pg.transaction(force_rollback=True):
                db.pg.execute("SET TRANSACTION READ WRITE")
                if applied:  # the tables exist: the login must be able to write them
                    db.pg.execute("LOCK TABLE _migrations IN ROW EXCLUSIVE MODE NOWAIT")
    finally:
        db.close()
    return applied
