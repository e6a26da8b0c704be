"""Feedback: the analyst's own label on an article, to measure and tune the topics.

``newswatch feedback ARTICLE --relevant|--not-relevant`` stores one row per article and
topic in ``feedback`` (a later label replaces the earlier one); ``topics eval --feedback``
and ``topics suggest`` read them back with the article's title, text and language.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase
from pipelines.store.schema import migration, table


@migration
def m011_feedback(db: sqlite_utils.Database) -> None:
    table(db, "feedback").create(
        {
            "id": int,
            "article_id": int,
            "topic": str,  # the topic the label is about
            "relevant": int,  # 1: the analyst wants such articles; 0: not
            "why": str,  # the analyst's reason, free text (may be empty)
            "created_at": str,  # first label (UTC)
            "updated_at": str,  # latest label (UTC)
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "topic", "relevant", "created_at", "updated_at"},
        if_not_exists=True,
    )
    table(db, "feedback").create_index(["article_id", "topic"], unique=True, if_not_exists=True)


@dataclass(frozen=True)
class Feedback:
    """One label, with what measuring the topics needs of its article."""

    article_id: int
    topic: str
    relevant: bool
    why: str
    url: str
    title: str
    text: str
    lang: str | None
    updated_at: str


class FeedbackOps(StoreBase):
    def article_ref(self, ref: str) -> int | None:
        """The id of the stored article ``ref`` names: its id, or its URL (as stored)."""
        if ref.isdigit():
            row = self.db.execute("SELECT id FROM articles WHERE id = ?", [int(ref)]).fetchone()
        else:
            row = self.db.execute(
                "SELECT id FROM articles WHERE url = ? OR final_url = ? ORDER BY id LIMIT 1",
                [ref, ref],
            ).fetchone()
        return int(row[0]) if row else None

    def article_topic_names(self, article_id: int) -> list[str]:
        """The topics the article matched when it was stored (``articles.topics``)."""
        row = self.db.execute("SELECT topics FROM articles WHERE id = ?", [article_id]).fetchone()
        if not row or not row[0]:
            return []
        found = self.db.execute(
            "SELECT json_extract(value, '$.topic') FROM json_each(?)", [row[0]]
        ).fetchall()
        return [str(name) for (name,) in found if name]

    def record_feedback(self, article_id: int, topic: str, relevant: bool, why: str) -> bool:
        """Store the label; True when it replaces an earlier label of the same topic."""
        now = utcnow()
        with self.transaction():
            earlier = self.db.execute(
                "SELECT id FROM feedback WHERE article_id = ? AND topic = ?", [article_id, topic]
            ).fetchone()
            if earlier:
                self.db.execute(
                    "UPDATE feedback SET relevant = ?, why = ?, updated_at = ? WHERE id = ?",
                    [int(relevant), why, now, earlier[0]],
                )
            else:
                self.db.execute(
                    "INSERT INTO feedback (article_id, topic, relevant, why, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [article_id, topic, int(relevant), why, now, now],
                )
        return earlier is not None

    def feedback(self, topics: list[str] | None = None) -> list[Feedback]:
        """Every label (of these topics), oldest first, with its article."""
        rows = self.db.execute(
            "SELECT f.article_id, f.topic, f.relevant, f.why, a.url, a.title, a.text, a.lang,"
            " f.updated_at FROM feedback f JOIN articles a ON a.id = f.article_id"
            " ORDER BY f.updated_at, f.id"
        ).fetchall()
        return [
            Feedback(
                int(r[0]), r[1], bool(r[2]), r[3] or "", r[4], r[5] or "", r[6] or "", r[7], r[8]
            )
            for r in rows
            if topics is None or r[1] in topics
        ]
