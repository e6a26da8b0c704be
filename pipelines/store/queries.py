"""Read-only queries for the command line: export, status, the doctor's look at the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pipelines.store.base import StoreBase, StoreError

# The columns ``newswatch export`` writes, in this order (docs/dataset.md says what each is).
EXPORT_COLUMNS = (
    "id",
    "url",
    "source",
    "lang",
    "title",
    "published",
    "date_source",
    "author",
    "fetched_at",
    "duplicate_of",
    "overlap",
    "relevant",
    "topics",
    "content_hash",
    "text",
)


class QueryOps(StoreBase):
    """Read-only queries: they change nothing in the dataset."""

    def export_articles(
        self, *, relevant_only: bool = False, with_seeds: bool = False
    ) -> list[dict[str, Any]]:
        """Stored articles in id order, EXPORT_COLUMNS each, ``topics`` as stored (JSON text)."""
        where = ["1=1"]
        if relevant_only:
            where.append("relevant = 1")
        if not with_seeds:
            where.append("source != 'seed'")
        sql = f"SELECT {', '.join(EXPORT_COLUMNS)} FROM articles WHERE {' AND '.join(where)}"
        return list(self.db.query(sql + " ORDER BY id"))

    def relevant_originals(self) -> list[dict[str, Any]]:
        """Crawled articles that matched a topic and copy nothing: source, lang, title."""
        return list(
            self.db.query(
                "SELECT source, lang, title FROM articles WHERE relevant = 1 AND"
                " duplicate_of IS NULL AND source != 'seed' ORDER BY id"
            )
        )

    def copies_of_stored(self) -> list[dict[str, Any]]:
        """Stored duplicates with the URL of their original: source, title, original, overlap."""
        return list(
            self.db.query(
                "SELECT a.source, a.title, d.url AS original, a.overlap FROM articles a"
                " JOIN articles d ON d.id = a.duplicate_of ORDER BY a.id"
            )
        )

    def latest_run_sources(self, passes: int) -> list[tuple[int, dict[str, Any]]]:
        """The per-source counters of the latest ``passes`` runs, newest first: (run id, counts)."""
        rows = self.db.execute(
            "SELECT id, sources FROM runs WHERE sources IS NOT NULL ORDER BY id DESC LIMIT ?",
            [passes],
        )
        return [(int(r[0]), json.loads(r[1])) for r in rows]

    def source_health_rows(self) -> dict[str, dict[str, Any]]:
        """Every source's health row (state, bad passes, since when), by source name."""
        return {r["source"]: r for r in self.db.query("SELECT * FROM source_health")}


def probe_database(path: Path) -> set[str]:
    """The migrations applied to an existing dataset file, once a write transaction started
    there and was rolled back.

    For ``newswatch doctor``: it neither creates the file nor migrates it (opening a
    :class:`Store` would do both and hide what is pending). Raises StoreError when the file
    is not a writable SQLite database.
    """
    try:
        uri = path.resolve().as_uri() + "?mode=rw"  # never creates the file
        conn = sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None)
        try:
            known = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = '_migrations'"
            ).fetchone()
            applied = (
                {str(r[0]) for r in conn.execute("SELECT name FROM _migrations")}
                if known is not None
                else set()
            )
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    return applied
