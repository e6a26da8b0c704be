"""Stories, read: for alerting per story and for ``newswatch stories``.

The alerting side (which of a story's rows were reported, on which channel, and when; rows
folded into a story without a message) and the commands' listings. Written by
:mod:`pipelines.store.stories`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase


class StoryQueryOps(StoreBase):
    """Reading stories (and folding a story's alert rows)."""

    def article_source(self, article_id: int) -> str | None:
        row = self.db.execute("SELECT source FROM articles WHERE id = ?", [article_id]).fetchone()
        return None if row is None else str(row[0])

    def story_alert_topics(self, story_id: int) -> dict[str, bool]:
        """The topics a story's articles queued alerts for, and whether one of them has
        left the outbox (``sending``, ``sent`` or ``failed``): the story was reported."""
        rows = self.db.execute(
            "SELECT al.topic, max(al.status != 'pending') FROM alerts al"
            " JOIN articles a ON a.id = al.article_id WHERE a.story_id = ? GROUP BY al.topic",
            [story_id],
        )
        return {str(r[0]): bool(r[1]) for r in rows}

    def alert_topics(self, article_id: int) -> set[str]:
        rows = self.db.execute("SELECT topic FROM alerts WHERE article_id = ?", [article_id])
        return {str(r[0]) for r in rows}

    def updates_to_fold(self) -> list[tuple[int, int]]:
        """(alert id, story id) of pending alerts whose story was already reported for the
        same topic."""
        rows = self.db.execute(
            "SELECT al.id, a.story_id FROM alerts al JOIN articles a ON a.id = al.article_id"
            " WHERE al.status = 'pending' AND a.story_id IS NOT NULL AND EXISTS (SELECT 1"
            " FROM alerts x JOIN articles b ON b.id = x.article_id WHERE b.story_id ="
            " a.story_id AND x.topic = al.topic AND x.status != 'pending') ORDER BY al.id"
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    def fold_alert(self, alert_id: int, note: str) -> None:
        """An alert that goes out in no message of its own (its story's news is not sent
        as updates): ``sent`` on every channel, with ``note`` saying where it went."""
        now = utcnow()
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = ?"
                " WHERE kind = 'alert' AND item_id = ? AND status = 'pending'",
                [now, note, alert_id],
            )
            self.db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, last_error = ?"
                " WHERE id = ? AND status = 'pending'",
                [now, note, alert_id],
            )

    def alert_stories(self, alert_ids: Sequence[int]) -> dict[int, tuple[int | None, int | None]]:
        """Alert id -> (its article's story, the original its article copies)."""
        found: dict[int, tuple[int | None, int | None]] = {}
        for start in range(0, len(alert_ids), 500):
            chunk = list(alert_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(
                "SELECT al.id, a.story_id, a.duplicate_of FROM alerts al"
                f" JOIN articles a ON a.id = al.article_id WHERE al.id IN ({marks})",
                chunk,
            ):
                found[int(r[0])] = (r[1], r[2])
        return found

    def story_reported(
        self, story_id: int, topic: str, channel: str, exclude: Sequence[int]
    ) -> str | None:
        """When the story was last reported on ``channel`` for ``topic`` ("" when a report
        left without a known time), or None when it never was: a row of the story, other
        than ``exclude``, that left the outbox there (sending, sent or failed)."""
        marks = ",".join("?" * len(exclude)) or "NULL"
        row = self.db.execute(
            "SELECT count(*), max(coalesce(d.sent_at, al.sent_at, '')) FROM alerts al"
            " JOIN articles a ON a.id = al.article_id LEFT JOIN deliveries d"
            " ON d.kind = 'alert' AND d.item_id = al.id AND d.channel = ?"
            f" WHERE a.story_id = ? AND al.topic = ? AND al.id NOT IN ({marks})"
            " AND coalesce(d.status, al.status) != 'pending'",
            [channel, story_id, topic, *exclude],
        ).fetchone()
        return None if not row[0] else str(row[1] or "")

    def story(self, story_id: int) -> dict[str, Any] | None:
        """A story's row, ``languages`` and ``sources`` as lists."""
        rows = list(self.db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
        if not rows:
            return None
        found = dict(rows[0])
        for name in ("languages", "sources"):
            found[name] = json.loads(found[name] or "[]")
        return found

    def story_rows(self, since: str, *, relevant: bool = False) -> list[dict[str, Any]]:
        """Stories with news since ``since``, the latest first (``stories list``)."""
        rows = self.db.query(
            "SELECT id, first_seen, last_seen, lead_article_id, title, languages, sources,"
            " article_count, relevant FROM stories WHERE last_seen >= ?"
            + (" AND relevant = 1" if relevant else "")
            + " ORDER BY last_seen DESC, id DESC",
            [since],
        )
        found = []
        for r in rows:
            row = dict(r)
            row["languages"] = json.loads(row["languages"] or "[]")
            row["sources"] = json.loads(row["sources"] or "[]")
            found.append(row)
        return found

    def story_articles(self, story_id: int) -> list[dict[str, Any]]:
        """A story's articles, earliest published first, with how each joined."""
        rows = self.db.query(
            "SELECT a.id, a.url, a.title, a.source, a.lang, a.published, a.duplicate_of,"
            " a.relevant, l.via, l.matched_article_id, l.score, l.entities, l.amounts,"
            " l.dates, l.text_similarity, l.days_apart FROM articles a"
            " JOIN story_links l ON l.article_id = a.id JOIN story_features f"
            " ON f.article_id = a.id WHERE a.story_id = ? ORDER BY f.published, a.id",
            [story_id],
        )
        found = []
        for r in rows:
            row = dict(r)
            for name in ("entities", "amounts", "dates"):
                row[name] = json.loads(row[name] or "[]")
            found.append(row)
        return found

    def copies_of(self, article_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The stored copies of these articles (seed files left out), oldest first."""
        if not article_ids:
            return []
        marks = ",".join("?" * len(article_ids))
        return [
            dict(r)
            for r in self.db.query(
                "SELECT id, url, title, source, lang, published, duplicate_of FROM articles"
                f" WHERE duplicate_of IN ({marks}) AND source != 'seed' ORDER BY id",
                list(article_ids),
            )
        ]

    def best_link_to(self, article_id: int) -> float:
        """The highest score of the articles that joined their story through this one."""
        row = self.db.execute(
            "SELECT max(score) FROM story_links WHERE matched_article_id = ? AND via = 'match'",
            [article_id],
        ).fetchone()
        return float(row[0] or 0.0)
