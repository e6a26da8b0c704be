"""The store: the only place that speaks SQL.

Stages receive a :class:`Store` and call its named operations; none of them writes SQL or
imports sqlite_utils (tests/test_layering.py checks). The operations are grouped by what they
store, one module each: articles, urls, shingles, validators, outbox, runs, queries; the
schema and its migrations are in ``schema``, the pass lock in ``lock``. SQLite
(sqlite-utils) is the embedded backend.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from pipelines.defaults import STORE_BUSY_TIMEOUT_SECONDS
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

__all__ = [
    "MIGRATIONS",
    "Store",
    "StoreError",
    "Validators",
    "migrate",
    "migration",
    "open_db",
    "open_store",
    "probe_database",
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
