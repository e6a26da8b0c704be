"""The near-duplicate index: sampled shingle hashes of every original document.

What a shingle is and how a duplicate is judged is pipelines/dedup.py's business; this
module only reads and writes the postings (hash -> article) in the ``shingles`` table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from pipelines.store.base import StoreBase


def replace_shingles(db: sqlite_utils.Database, article_id: int, hashes: Iterable[int]) -> None:
    """An article's postings, replacing any it had (also used by a migration)."""
    db.execute("DELETE FROM shingles WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO shingles (hash, article_id) VALUES (?, ?)",
        [(h, article_id) for h in hashes],
    )


class ShingleOps(StoreBase):
    """Operations on the ``shingles`` index."""

    def index_shingles(self, article_id: int, hashes: Iterable[int]) -> None:
        """Add an original document's shingle hashes to the index (replacing any it had)."""
        replace_shingles(self.db, article_id, hashes)

    def common_shingles(self, hashes: Iterable[int], max_documents: int) -> set[int]:
        """The hashes that more than ``max_documents`` stored documents share.

        Such phrasing is no evidence of a copy; finding that out reads at most
        ``max_documents + 1`` postings per hash, whatever the size of the dataset.
        """
        return {
            int(row[0])
            for row in self.db.execute(
                "SELECT value FROM json_each(?) WHERE (SELECT count(*) FROM"
                " (SELECT 1 FROM shingles WHERE hash = value LIMIT ?)) > ?",
                [json.dumps(sorted(hashes)), max_documents + 1, max_documents],
            )
        }

    def shared_shingle_counts(
        self, hashes: Iterable[int], *, exclude_id: int | None = None
    ) -> list[tuple[int, int]]:
        """(article id, how many of ``hashes`` it holds) for every document holding some.

        Reads only the postings of these hashes.
        """
        rows = self.db.execute(
            "SELECT article_id, count(*) FROM shingles WHERE hash IN (SELECT value FROM"
            " json_each(?)) AND article_id IS NOT ? GROUP BY article_id",
            [json.dumps(sorted(hashes)), exclude_id],
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]
