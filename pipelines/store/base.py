"""The store's base: one SQLite connection, its transactions, and its errors.

Every operation of the store (``pipelines/store/*.py``) is a method of :class:`Store`,
grouped by what it stores; they share the connection and :meth:`StoreBase.transaction`.

A database that cannot be written (locked by another writer past
``STORE_BUSY_TIMEOUT_SECONDS``, a full disk, an I/O error) raises :class:`StoreError`
naming the file and the cause in a few words (``PATH: database is locked``); a transaction
that fails is rolled back whole, so nothing stored is damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import sqlite_utils

from pipelines.defaults import STORE_BUSY_TIMEOUT_SECONDS
from pipelines.errors import StoreError as StoreError  # defined there, raised from here


def cause(exc: sqlite3.Error) -> str:
    """SQLite's reason in the words a user acts on."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return (
            f"database is locked (another process kept it for more than"
            f" {STORE_BUSY_TIMEOUT_SECONDS:g} s)"
        )
    if "full" in text:  # SQLITE_FULL: "database or disk is full"
        return "disk is full"
    return text or type(exc).__name__


@contextmanager
def store_errors(path: object) -> Iterator[None]:
    """Turn what SQLite raises into one :class:`StoreError` naming ``path`` (anything
    whose ``str()`` is the file's name, read only when there is an error)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {cause(exc)}") from None


@contextmanager
def transaction(db: sqlite_utils.Database, path: object = None) -> Iterator[None]:
    """One explicit transaction: all of an article's rows land together or not at all.

    SQLite's errors become a :class:`StoreError` (naming ``path`` when given) once the
    transaction is rolled back."""
    conn = db.conn
    if conn.in_transaction:  # nested: the outer transaction decides
        yield
        return
    with store_errors(path if path is not None else "database"):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back by itself (SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class StoreBase:
    """The connection every store operation uses.

    The few SQL fragments that differ between backends are class attributes here (SQLite's;
    ``pipelines/store/postgres.py`` has PostgreSQL's), formatted into the operations' SQL.
    """

    # Whether the JSON list of topic matches in ``{column}`` names one of ``{marks}``.
    TOPIC_IN = (
        "EXISTS (SELECT 1 FROM json_each(coalesce({column}, '[]')) m WHERE"
        " json_extract(m.value, '$.topic') IN ({marks}))"
    )
    # A story_features row's features without their words.
    FEATURES_WITHOUT_TERMS = "json_remove(features, '$.terms')"
    # The order story links were written in.
    LINK_ORDER = "l.rowid"
    # After a SELECT inside a transaction that rewrites what it read: SQLite's write
    # transaction (BEGIN IMMEDIATE) already keeps every other writer out.
    FOR_UPDATE = ""

    def __init__(self, db: sqlite_utils.Database, path: Path | str) -> None:
        self.db = db
        self.path = path

    def lock_url_keys(self, keys: Iterable[str]) -> None:
        """Inside a transaction: no other writer stores a page under ``keys`` until it
        ends. A no-op on SQLite, whose write transaction keeps every other writer out."""

    def column_names(self, table: str) -> set[str]:
        """The columns of ``table`` (none when there is no such table)."""
        return {c.name for c in self.db.table(table).columns}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All that is written inside lands together or not at all (nested: the outer decides)."""
        with transaction(self.db, self.path):
            yield

    def sync_at_checkpoints(self) -> None:
        """Commits on this connection no longer wait for the disk (``synchronous=NORMAL``).

        In WAL mode that is still safe from corruption and from a crash of the process (a
        commit is in the WAL when COMMIT returns); only a power cut may take back the last
        commits, which the next pass then fetches again. The crawl's article writes use it:
        an fsync per article held the crawling thread ~2 ms a page. The outbox does not:
        what was sent is on disk before the next message goes out."""
        self.db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
