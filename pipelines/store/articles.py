"""Articles: rows, their text, their topics, the alerts they raise."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlite_utils.db import jsonify_if_needed

from pipelines.store.base import StoreBase
from pipelines.store.schema import table


@dataclass(frozen=True)
class ArticleState:
    """What an update of a stored article must know before it rewrites the row."""

    original: bool  # not a duplicate: an original may raise alerts, and is indexed
    topics: frozenset[str]  # the topics it matched when it was last stored
    indexed: bool  # its shingles are in the near-duplicate index


class ArticleOps(StoreBase):
    """Operations on the ``articles`` table (and the alert rows an article queues)."""

    def article_id_by_keys(self, keys: Iterable[str]) -> int | None:
        """The stored article known under one of these URL keys (a redirect, a variant URL)."""
        for key in keys:
            row = self.db.execute("SELECT id FROM articles WHERE url_key = ?", [key]).fetchone()
            if row:
                return int(row[0])
        return None

    def article_text(self, article_id: int) -> str | None:
        """A stored article's text, to compare a page or a copy with."""
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
        return None if row is None else str(row[0] or "")

    def article_content_hash(self, article_id: int) -> str | None:
        """The exact-copy identity of a stored article: an unchanged page is not rewritten."""
        row = self.db.execute(
            "SELECT content_hash FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def article_state(self, article_id: int) -> ArticleState:
        """Whether the article is an original, what it matched and whether it is indexed."""
        original, topics = self.db.execute(
            "SELECT duplicate_of IS NULL, topics FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        indexed = self.db.execute(
            "SELECT 1 FROM shingles WHERE article_id = ? LIMIT 1", [article_id]
        ).fetchone()
        matched = frozenset(str(m["topic"]) for m in json.loads(topics or "[]") if m.get("topic"))
        return ArticleState(bool(original), matched, indexed is not None)

    def exact_original(self, content_hash: str, *, exclude_id: int | None = None) -> int | None:
        """The original of the first stored article with these very words (dedup's fast path).

        A stored copy points to its original, so a third copy points there too.
        """
        row = self.db.execute(
            "SELECT id, duplicate_of FROM articles WHERE content_hash = ? AND id IS NOT ?"
            " ORDER BY id LIMIT 1",
            [content_hash, exclude_id],
        ).fetchone()
        return None if row is None else int(row[1] or row[0])

    def has_article(self, url_key: str) -> bool:
        """Whether an article is stored under this URL key (seed files are keyed by name)."""
        found = self.db.execute("SELECT 1 FROM articles WHERE url_key = ?", [url_key])
        return found.fetchone() is not None

    def insert_article(self, row: Mapping[str, object]) -> int:
        """Store a new article row (columns as in docs/dataset.md); returns its id."""
        # Plain SQL: sqlite-utils' insert() looks the table and its views up in
        # sqlite_master three times a row, a third of the cost of storing an article.
        names = list(row)
        cursor = self.db.execute(
            f"INSERT INTO articles ({', '.join(f'[{n}]' for n in names)})"
            f" VALUES ({', '.join('?' * len(names))})",
            [jsonify_if_needed(row[n]) for n in names],
        )
        pk = cursor.lastrowid
        assert isinstance(pk, int)
        return pk

    def update_article(self, article_id: int, changes: Mapping[str, object]) -> None:
        """Rewrite some columns of a stored article (a page whose text changed)."""
        table(self.db, "articles").update(article_id, dict(changes))

    def queue_alerts(self, article_id: int, topics: Iterable[str], created_at: str) -> int:
        """Queue one pending alert per topic not alerted before for this article.

        Returns how many were new: an article never raises a topic's alert twice.
        """
        queued = 0
        for topic in topics:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO alerts (article_id, topic, created_at, status, attempts)"
                " VALUES (?, ?, ?, 'pending', 0)",
                [article_id, topic, created_at],
            )
            queued += cursor.rowcount
        return queued
