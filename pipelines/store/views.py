"""SQL views for the dataset's readers (Datasette, sqlite-utils, pandas), and m013.

- ``relevant_articles``: crawled articles that matched a topic and copy nothing, with the
  names of the topics they matched and their best score, newest first by ``day``;
- ``copies``: every stored copy beside the original it copies (a seed file or an earlier
  article), with the overlap;
- ``source_activity``: per source and day, the articles stored (originals, copies,
  relevant ones) and the passes that read the source (requests, errors).

A view reads tables that a later migration may rebuild (sqlite-utils' ``transform``
renames tables, which SQLite refuses while a view names a table that is gone), so
``migrate()`` drops the views before pending migrations and creates them again after
(``VIEWS`` in ``pipelines/store/schema.py``). docs/dataset.md documents every column.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from pipelines.store.base import StoreBase
from pipelines.store.schema import VIEWS, migration

# The day an article belongs to: its publication date as the page gave it (the outlet's
# own calendar day), else the day it was stored.
_DAY = "substr(coalesce(a.published, a.fetched_at), 1, 10)"
_TOPIC_NAMES = (
    "(SELECT group_concat(json_extract(m.value, '$.topic'), ', ')"
    " FROM json_each(coalesce(a.topics, '[]')) m)"
)
_BEST_SCORE = (
    "(SELECT max(json_extract(m.value, '$.score')) FROM json_each(coalesce(a.topics, '[]')) m)"
)

RELEVANT_ARTICLES = f"""
SELECT a.id, {_DAY} AS day, a.published, a.source, a.lang, a.title, a.url,
       {_TOPIC_NAMES} AS topic_names, {_BEST_SCORE} AS score,
       a.author, a.site, a.found_via, a.fetched_at
FROM articles a
WHERE a.relevant = 1 AND a.duplicate_of IS NULL AND a.source != 'seed'
"""

COPIES = f"""
SELECT a.id, {_DAY} AS day, a.source, a.lang, a.title, a.url, a.overlap,
       o.id AS original_id, o.source AS original_source, o.title AS original_title,
       o.url AS original_url, (o.source = 'seed') AS copies_seed, a.relevant, a.fetched_at
FROM articles a JOIN articles o ON o.id = a.duplicate_of
"""

# The end of source_activity on both backends: the stored and read sides joined per day.
ACTIVITY_BY_DAY = """), days AS (SELECT source, day FROM stored UNION SELECT source, day FROM read)
SELECT d.source, d.day, coalesce(r.passes, 0) AS passes, coalesce(r.requests, 0) AS requests,
       coalesce(r.errors, 0) AS errors, coalesce(s.articles, 0) AS articles,
       coalesce(s.originals, 0) AS originals, coalesce(s.copies, 0) AS copies,
       coalesce(s.relevant, 0) AS relevant
FROM days d
LEFT JOIN stored s ON s.source = d.source AND s.day = d.day
LEFT JOIN read r ON r.source = d.source AND r.day = d.day
"""

SOURCE_ACTIVITY = (
    """
WITH stored AS (
  SELECT a.source, substr(a.fetched_at, 1, 10) AS day, count(*) AS articles,
         sum(a.duplicate_of IS NULL) AS originals, sum(a.duplicate_of IS NOT NULL) AS copies,
         sum(a.relevant = 1 AND a.duplicate_of IS NULL) AS relevant
  FROM articles a WHERE a.source != 'seed' GROUP BY 1, 2
), read AS (
  SELECT s.key AS source, substr(r.started_at, 1, 10) AS day, count(*) AS passes,
         sum(coalesce(json_extract(s.value, '$.requests'), 0)) AS requests,
         sum((SELECT coalesce(sum(e.value), 0)
              FROM json_each(coalesce(json_extract(s.value, '$.errors'), '{}')) e)) AS errors
  FROM runs r, json_each(coalesce(r.sources, '{}')) s GROUP BY 1, 2
"""
    + ACTIVITY_BY_DAY
)

VIEWS.update(
    {
        "relevant_articles": RELEVANT_ARTICLES,
        "copies": COPIES,
        "source_activity": SOURCE_ACTIVITY,
    }
)


@migration
def m013_views(db: sqlite_utils.Database) -> None:
    # The views themselves are (re)created by migrate() after every migration it applies.
    # Seed rows stored before seed_title existed keep their first line as title, often a
    # dateline ("18 december 2021 - 21:40 - Marokko"): give them a readable one.
    from pipelines.seeds import seed_title

    rows = db.execute("SELECT id, url, text FROM articles WHERE source = 'seed'").fetchall()
    db.conn.executemany(
        "UPDATE articles SET title = ? WHERE id = ?",
        [(seed_title(text or "", url.removeprefix("seed:"))[:300], i) for i, url, text in rows],
    )


class ReportOps(StoreBase):
    """What ``newswatch report`` reads over a period of days (``YYYY-MM-DD``, inclusive)."""

    def relevant_by_day(self, since: str, until: str) -> list[dict[str, Any]]:
        """Relevant items per (day, lang, source): ``day``, ``lang``, ``source``, ``items``."""
        return list(
            self.db.query(
                "SELECT day, lang, source, count(*) AS items FROM relevant_articles"
                " WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                [since, until],
            )
        )

    def top_relevant(self, since: str, until: str, limit: int) -> list[dict[str, Any]]:
        """The period's relevant items, best score first, then newest."""
        return list(
            self.db.query(
                "SELECT id, day, source, lang, title, url, topic_names, score"
                " FROM relevant_articles WHERE day BETWEEN ? AND ?"
                " ORDER BY score DESC, day DESC, id DESC LIMIT ?",
                [since, until, limit],
            )
        )

    def top_stories(self, since: str, until: str, limit: int) -> list[dict[str, Any]] | None:
        """The period's stories with most articles (those with a relevant article when the
        table says so), or None when the dataset has no stories."""
        have = self.column_names("stories")
        if not have:
            return None
        relevant = " AND relevant = 1" if "relevant" in have else ""
        last = "last_seen" if "last_seen" in have else "updated_at"
        return list(
            self.db.query(
                "SELECT id, title, first_seen, updated_at, article_count, sources, languages"
                f" FROM stories WHERE substr(coalesce({last}, first_seen), 1, 10) >= ?"
                f" AND substr(first_seen, 1, 10) <= ?{relevant}"
                " ORDER BY article_count DESC, updated_at DESC LIMIT ?",
                [since, until, limit],
            )
        )

    def source_activity(self, since: str, until: str) -> list[dict[str, Any]]:
        """Per source over the period: passes, requests, errors, articles, relevant..."""
        return list(
            self.db.query(
                "SELECT source, sum(passes) AS passes, sum(requests) AS requests,"
                " sum(errors) AS errors, sum(articles) AS articles, sum(originals) AS originals,"
                " sum(copies) AS copies, sum(relevant) AS relevant FROM source_activity"
                " WHERE day BETWEEN ? AND ? GROUP BY source ORDER BY source",
                [since, until],
            )
        )

    def pass_count(self, since: str, until: str) -> int:
        """Passes started in the period."""
        row = self.db.execute(
            "SELECT count(*) FROM runs WHERE substr(started_at, 1, 10) BETWEEN ? AND ?",
            [since, until],
        ).fetchone()
        return int(row[0])
