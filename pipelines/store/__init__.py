"""The store: the only place that speaks SQL.

Stages receive a :class:`Store` and call its named operations; none of them writes SQL or
imports sqlite_utils (tests/test_layering.py checks). The operations are grouped by what they
store, one module each: articles, urls, shingles, validators, outbox, runs, queries; the
schema and its migrations are in ``schema``, the pass lock in ``lock``. SQLite
(sqlite-utils) is the embedded backend; PostgreSQL (``[store] url``) the other one
(``postgres``, ``pg_schema``): :func:`open_config_store` opens the one a config names.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pipelines.defaults import STORE_BUSY_TIMEOUT_SECONDS
from pipelines.store._sqlite import sqlite_utils
from pipelines.store.articles import ArticleOps
from pipelines.store.base import StoreBase, StoreError, cause, store_errors, transaction
from pipelines.store.digest import DigestOps
from pipelines.store.feedback import FeedbackOps
from pipelines.store.outbox import OutboxOps
from pipelines.store.queries import QueryOps, probe_database
from pipelines.store.runs import RunOps
from pipelines.store.schema import MIGRATIONS, migrate, migration, table
from pipelines.store.shingles import ShingleOps
from pipelines.store.stories import StoriesOps
from pipelines.store.urls import UrlOps
from pipelines.store.validators import ValidatorOps, Validators
from pipelines.store.views import ReportOps

if TYPE_CHECKING:
    from pipelines.config import Config

__all__ = [
    "MIGRATIONS",
    "Store",
    "StoreError",
    "Validators",
    "migrate",
    "migration",
    "open_config_store",
    "open_db",
    "open_postgres_store",
    "open_store",
    "probe_database",
    "store_name",
    "store_errors",
    "table",
    "transaction",
]


class Store(
    ArticleOps,
    UrlOps,
    ShingleOps,
    ValidatorOps,
    OutboxOps,
    DigestOps,
    RunOps,
    QueryOps,
    ReportOps,
    StoriesOps,
    FeedbackOps,
    StoreBase,
):
    """The dataset, through named operations (see the modules of this package)."""


def open_config_store(config: Config) -> Store:
    """The dataset ``config`` names: PostgreSQL at ``[store] url`` when it is set, else the
    SQLite file at ``[store] path`` (created and migrated if needed)."""
    if config.store_url:
        return open_postgres_store(config.store_url)
    return open_store(config.store_path)


def store_name(config: Config) -> str:
    """How messages name the dataset ``config`` names: its file, or
    ``postgresql://user@host:port/db`` (never a password)."""
    if config.store_url:
        from pipelines.store.postgres import display_name

        return display_name(config.store_url)
    return str(config.store_path)


def open_postgres_store(url: str, *, password: str | None = None) -> Store:
    """Open and migrate the PostgreSQL dataset at ``url`` (the password: ``password``, else
    NEWSWATCH_STORE_PASSWORD, else libpq's PGPASSWORD or ~/.pgpass). Errors are one
    StoreError naming ``postgresql://user@host:port/db``."""
    from pipelines.store.pg_ops import PostgresStore
    from pipelines.store.pg_schema import migrate_postgres
    from pipelines.store.postgres import connect

    db = connect(url, password=password)
    try:
        migrate_postgres(db)
    except BaseException:
        db.close()
        raise
    return PostgresStore(cast(sqlite_utils.Database, db), db.name)


def open_store(path: Path) -> Store:
    """Open (creating and migrating if needed) the dataset at ``path``; errors name the file."""
    return Store(open_db(path), path)


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the dataset; errors name the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=STORE_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout={int(STORE_BUSY_TIMEOUT_SECONDS * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except sqlite3.Error as exc:
        if "locked" in str(exc) or "full" in str(exc):  # the cause says it all
            raise StoreError(f"{path}: {cause(exc)}") from None
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    return db
