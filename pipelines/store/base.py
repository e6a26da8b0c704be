"""The store's base: one SQLite connection, its transactions, and nothing else.

Every operation of the store (``pipelines/store/*.py``) is a method of :class:`Store`,
grouped by what it stores; they share the connection and :meth:`StoreBase.transaction`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import sqlite_utils

from pipelines.errors import NewswatchError


class StoreError(NewswatchError):
    """The database file cannot be opened, migrated or written."""


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One explicit transaction: all of an article's rows land together or not at all."""
    conn = db.conn
    if conn.in_transaction:  # nested: the outer transaction decides
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreBase:
    """The connection every store operation uses."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All that is written inside lands together or not at all (nested: the outer decides)."""
        with transaction(self.db):
            yield

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
