"""Digest slots, the dataset's identity and the feed's items.

``digest_slots`` holds one row per digest slot claimed (``[alerts] digest = "daily 08:00"``):
the sender that inserts the row sends that slot's digest, so a slot goes out once however
many passes or ``alerts send`` run after its time. ``dataset_identity`` is one random id
made with the dataset: the feed's entry ids (``tag:`` URIs) are built from it and stay the
same across runs, and differ from another dataset's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlite_utils

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase
from pipelines.store.schema import migration, table


@migration
def m012_digest_slots(db: sqlite_utils.Database) -> None:
    table(db, "digest_slots").create(
        {"slot": str, "rhythm": str, "claimed_at": str},
        pk="slot",
        not_null={"rhythm", "claimed_at"},
        if_not_exists=True,
    )
    table(db, "dataset_identity").create(
        {"id": str, "created_at": str}, pk="id", not_null={"created_at"}, if_not_exists=True
    )
    if not db.execute("SELECT count(*) FROM dataset_identity").fetchone()[0]:
        table(db, "dataset_identity").insert({"id": uuid.uuid4().hex, "created_at": utcnow()})


class DigestOps(StoreBase):
    """Digest slots, the dataset's identity, and the latest relevant items of a topic."""

    def claim_digest_slot(self, slot: str, rhythm: str) -> bool:
        """Claim the digest slot ``slot`` (ISO UTC) in one transaction; False when another
        sender has claimed it already."""
        with self.transaction():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO digest_slots (slot, rhythm, claimed_at) VALUES (?, ?, ?)",
                [slot, rhythm, utcnow()],
            )
        return int(cursor.rowcount) == 1

    def latest_digest_slot(self) -> str | None:
        row = self.db.execute("SELECT max(slot) FROM digest_slots").fetchone()
        return None if row[0] is None else str(row[0])

    def count_held_for_digest(self, queued_after: str | None) -> int:
        """Pending alerts queued after the latest digest slot (all pending ones for None)."""
        row = self.db.execute(
            "SELECT count(*) FROM alerts WHERE status = 'pending'"
            " AND (:after IS NULL OR created_at > :after)",
            {"after": queued_after},
        ).fetchone()
        return int(row[0])

    def dataset_identity(self) -> tuple[str, str]:
        """(id, created_at) of this dataset."""
        row = self.db.execute("SELECT id, created_at FROM dataset_identity LIMIT 1").fetchone()
        return str(row[0]), str(row[1])

    def feed_items(self, topic: str, limit: int) -> list[dict[str, Any]]:
        """The latest relevant originals that matched ``topic``, newest first; with stories,
        one row per story (its earliest report, with the story's counts)."""
        columns = self.column_names("articles")
        stories = "story_id" in columns and "stories" in self.db.table_names()
        rows = [
            dict(r)
            for r in self.db.query(
                "SELECT a.id, a.url, a.title, a.source, a.lang, a.published, a.fetched_at,"
                " a.topics"
                + (", a.story_id" if stories else ", NULL AS story_id")
                + " FROM articles a WHERE a.relevant = 1 AND a.duplicate_of IS NULL"
                " AND a.source != 'seed' AND "
                + self.TOPIC_IN.format(column="a.topics", marks=":topic")
                + " ORDER BY coalesce(a.published, a.fetched_at) DESC, a.id DESC",
                {"topic": topic},
            )
        ]
        for row in rows:
            matches = json.loads(row.pop("topics") or "[]")
            row["match"] = next((m for m in matches if m.get("topic") == topic), {})
        if not stories:
            return rows[:limit]
        return self._by_story(rows, limit)

    def _by_story(self, rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
        members: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            if row["story_id"] is not None:
                members.setdefault(int(row["story_id"]), []).append(row)
        out: list[dict[str, Any]] = []
        seen: set[int] = set()
        for row in rows:  # newest first: a story is placed by its newest report
            story = row["story_id"]
            if story is None:
                out.append({**row, "story": None})
            elif int(story) not in seen:
                seen.add(int(story))
                group = members[int(story)]
                lead = min(group, key=lambda r: (r["published"] or r["fetched_at"], r["id"]))
                out.append({**lead, "story": self._story_facts(int(story), group)})
            if len(out) >= limit:
                break
        return out

    def _story_facts(self, story_id: int, group: list[dict[str, Any]]) -> dict[str, Any]:
        columns = self.column_names("stories")
        title = None
        if "title" in columns:
            found = self.db.execute("SELECT title FROM stories WHERE id = ?", [story_id])
            title = (found.fetchone() or [None])[0]
        counts = self.db.execute(
            "SELECT count(*), count(DISTINCT source), count(DISTINCT lang) FROM articles"
            " WHERE story_id = ? AND source != 'seed'",
            [story_id],
        ).fetchone()
        return {
            "id": story_id,
            "title": title,
            "articles": int(counts[0]),
            "sources": int(counts[1]),
            "languages": int(counts[2]),
            "updated": max((r["published"] or r["fetched_at"]) for r in group),
        }
