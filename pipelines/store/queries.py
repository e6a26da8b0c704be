"""Read-only queries for the command line: export, status, the doctor's look at the file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    "url_key",
    "final_url",
    "site",
    "updated_at",
    "found_via",
    "feed_title",
    "canonical_url",
    "text",
)
# Columns a later migration adds: exported when the dataset has them.
OPTIONAL_EXPORT_COLUMNS = ("story_id",)
# The day an article belongs to (as in the views): publication date, else storage date.
_DAY = "substr(coalesce(published, fetched_at), 1, 10)"


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles ``newswatch export`` writes. Days are ``YYYY-MM-DD``, inclusive, and
    compare the publication date (the storage date of an article without one)."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    relevant_only: bool = False
    exclude_copies: bool = False
    with_seeds: bool = False


class QueryOps(StoreBase):
    """Read-only queries: they change nothing in the dataset."""

    def export_columns(self) -> list[str]:
        """EXPORT_COLUMNS, then the optional ones this dataset has."""
        have = self.column_names("articles")
        return [*EXPORT_COLUMNS, *(c for c in OPTIONAL_EXPORT_COLUMNS if c in have)]

    def export_articles(
        self, *, relevant_only: bool = False, with_seeds: bool = False
    ) -> list[dict[str, Any]]:
        """Stored articles in id order, EXPORT_COLUMNS each, ``topics`` as stored (JSON text)."""
        chosen = ArticleFilter(relevant_only=relevant_only, with_seeds=with_seeds)
        return list(self.iter_articles(chosen, EXPORT_COLUMNS))

    def iter_articles(
        self, chosen: ArticleFilter, columns: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The articles ``chosen`` selects, in id order, with ``columns`` (default:
        :meth:`export_columns`)."""
        where, params = ["1=1"], []
        if not chosen.with_seeds:
            where.append("source != 'seed'")
        if chosen.relevant_only:
            where.append("relevant = 1")
        if chosen.exclude_copies:
            where.append("duplicate_of IS NULL")
        if chosen.since:
            where.append(f"{_DAY} >= ?")
            params.append(chosen.since)
        if chosen.until:
            where.append(f"{_DAY} <= ?")
            params.append(chosen.until)
        for column, values in (("source", chosen.sources), ("lang", chosen.langs)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if chosen.topics:
            marks = ", ".join("?" * len(chosen.topics))
            where.append(self.TOPIC_IN.format(column="topics", marks=marks))
            params.extend(chosen.topics)
        sql = (
            f"SELECT {', '.join(columns or self.export_columns())} FROM articles"
            f" WHERE {' AND '.join(where)} ORDER BY id"
        )
        yield from self.db.query(sql, params)

    def search_articles(self, words: str, limit: int = 20) -> list[int]:
        """Ids of the articles whose title or text holds ``words`` (full-text search, accents
        folded), the best match first."""
        rows = self.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            [words, limit],
        )
        return [int(r[0]) for r in rows]

    def table_names(self) -> set[str]:
        """Every table and view of the dataset."""
        return set(self.db.table_names()) | set(self.db.view_names())

    def new_relevant_of_run(self, run_id: int) -> list[dict[str, Any]]:
        """Articles stored since the run started that matched a topic and copy nothing:
        source, lang, title, url (the pass lock keeps other passes out meanwhile)."""
        return list(
            self.db.query(
                "SELECT a.source, a.lang, a.title, a.url FROM articles a, runs r"
                " WHERE r.id = ? AND a.fetched_at >= r.started_at AND a.relevant = 1"
                " AND a.duplicate_of IS NULL AND a.source != 'seed' ORDER BY a.id",
                [run_id],
            )
        )

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
