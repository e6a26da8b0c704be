"""Stories: the events articles tell, and why each article joined its story.

``stories`` holds one row per story (its lead is the earliest-published original), each
article's ``story_id`` points at its story, ``story_links`` says why it joined,
``story_features`` keeps the signals clustering compares (rebuildable) and ``story_keys`` is
the candidate index: entity, amount and date keys of the stories still open, so that
assigning one article reads a few recent stories whatever the size of the dataset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

import pipelines.store.story_schema  # noqa: F401  (registers its migrations)
from pipelines.clock import utcnow
from pipelines.store.schema import migration, table
from pipelines.store.story_queries import StoryQueryOps


@dataclass(frozen=True)
class Unassigned:
    """A stored article without a story, with what clustering reads."""

    id: int
    source: str
    lang: str | None
    title: str | None
    published: str | None
    fetched_at: str
    duplicate_of: int | None
    relevant: bool
    topics: list[dict[str, Any]]


@migration
def m010_stories(db: sqlite_utils.Database) -> None:
    table(db, "stories").create(
        {
            "id": int,
            "first_seen": str,  # earliest publication among its articles (UTC)
            "last_seen": str,  # latest publication: the story takes articles until + window
            "lead_article_id": int,
            "title": str,
            "languages": str,  # JSON list
            "sources": str,  # JSON list
            "article_count": int,
            "relevant": int,  # 1 when one of its articles matched a topic
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    table(db, "stories").create_index(["last_seen"], if_not_exists=True)
    articles = table(db, "articles")
    if "story_id" not in articles.columns_dict:
        articles.add_column("story_id", int)
    articles.create_index(["story_id"], if_not_exists=True)
    table(db, "story_links").create(
        {
            "article_id": int,
            "story_id": int,
            "via": str,  # "new" (started the story) | "match" | "copy"
            "matched_article_id": int,  # the story's article it matched best
            "score": float,
            "entities": str,  # JSON list of shared entity ids
            "amounts": str,  # JSON list of shared amounts and numbers
            "dates": str,  # JSON list of shared dates
            "text_similarity": float,
            "days_apart": float,
            "created_at": str,
            # 1 once the outbox got what the article owes its story's readers (or when the
            # migration clustered it: nothing owed for what was stored before)
            "settled": int,
        },
        pk="article_id",
        if_not_exists=True,
    )
    table(db, "story_links").create_index(["story_id"], if_not_exists=True)
    table(db, "story_links").create_index(["matched_article_id"], if_not_exists=True)
    table(db, "story_features").create(
        {"article_id": int, "story_id": int, "published": str, "lang": str, "features": str},
        pk="article_id",
        if_not_exists=True,
    )
    table(db, "story_features").create_index(["story_id", "published"], if_not_exists=True)
    db.execute(
        "CREATE TABLE IF NOT EXISTS story_keys (key TEXT NOT NULL, story_id INTEGER NOT NULL,"
        " last_seen TEXT NOT NULL, PRIMARY KEY (key, story_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX IF NOT EXISTS story_keys_recent ON story_keys(key, last_seen)")
    db.execute("CREATE INDEX IF NOT EXISTS story_keys_story ON story_keys(story_id)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS story_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL)"
        " WITHOUT ROWID"
    )
    # Cluster what is already stored (the shipped gazetteer and default settings); a new
    # dataset has nothing to cluster, and its first pass need not load the stories engine.
    if db.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None:
        return
    from pipelines.store import Store
    from pipelines.stories import cluster_new

    cluster_new(Store(db, Path(db.conn.execute("PRAGMA database_list").fetchone()[2] or "")))
    db.execute("UPDATE story_links SET settled = 1")


class StoriesOps(StoryQueryOps):
    """Operations on ``stories`` and the tables clustering keeps beside it (reading them
    for alerts and commands: :class:`StoryQueryOps`)."""

    def unassigned_articles(self, article_id: int | None = None) -> list[Unassigned]:
        """Articles without a story (or that one); text not included (``article_text``)."""
        rows = self.db.execute(
            "SELECT id, source, lang, title, published, fetched_at, duplicate_of, relevant,"
            " topics FROM articles WHERE story_id IS NULL AND (? IS NULL OR id = ?)",
            [article_id, article_id],
        ).fetchall()
        return [
            Unassigned(
                int(r[0]), str(r[1]), r[2], r[3], r[4], str(r[5]),
                None if r[6] is None else int(r[6]), bool(r[7]), json.loads(r[8] or "[]"),
            )
            for r in rows
        ]  # fmt: skip

    def unsettled_links(self) -> list[tuple[Unassigned, int, str, float]]:
        """Articles put in a story whose outbox rows were not settled yet: (the article,
        its story, how it joined, the link's score), oldest published first."""
        rows = self.db.execute(
            "SELECT a.id, a.source, a.lang, a.title, a.published, a.fetched_at,"
            " a.duplicate_of, a.relevant, a.topics, l.story_id, l.via, l.score"
            " FROM story_links l JOIN articles a ON a.id = l.article_id"
            f" WHERE l.settled IS NULL ORDER BY {self.LINK_ORDER}"
        ).fetchall()
        return [
            (
                Unassigned(
                    int(r[0]), str(r[1]), r[2], r[3], r[4], str(r[5]),
                    None if r[6] is None else int(r[6]), bool(r[7]), json.loads(r[8] or "[]"),
                ),
                int(r[9]), str(r[10]), float(r[11] or 0.0),
            )
            for r in rows
        ]  # fmt: skip

    def settle_link(self, article_id: int) -> None:
        self.db.execute("UPDATE story_links SET settled = 1 WHERE article_id = ?", [article_id])

    def article_story(self, article_id: int) -> int | None:
        row = self.db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def duplicate_root(self, article_id: int) -> int:
        """The original a chain of copies leads to (the article itself when it is one)."""
        seen = {article_id}
        current = article_id
        while True:
            row = self.db.execute(
                "SELECT duplicate_of FROM articles WHERE id = ?", [current]
            ).fetchone()
            if row is None or row[0] is None or int(row[0]) in seen:
                return current
            current = int(row[0])
            seen.add(current)

    def published_original(self, article_id: int, later_than: str) -> bool:
        """Whether ``article_id`` is a crawled original whose own publication date is
        after ``later_than`` (UTC ISO): a copy published before it should be the original.
        A seed file, or an article without a date, stays the original."""
        row = self.db.execute(
            "SELECT f.published FROM articles a JOIN story_features f ON f.article_id = a.id"
            " WHERE a.id = ? AND a.source != 'seed' AND a.published IS NOT NULL",
            [article_id],
        ).fetchone()
        return row is not None and str(row[0]) > later_than

    def make_original(self, article_id: int, former: int) -> None:
        """``article_id``, a copy of ``former`` published before it, becomes the original:
        ``former`` and its other copies point at it (flat), and ``former``'s alerts not yet
        sent move to it."""
        overlap = self.db.execute(
            "SELECT overlap FROM articles WHERE id = ?", [article_id]
        ).fetchone()[0]
        self.db.execute(
            "UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ? AND id != ?",
            [article_id, former, article_id],
        )
        self.db.execute(
            "UPDATE articles SET duplicate_of = NULL, overlap = NULL WHERE id = ?", [article_id]
        )
        self.db.execute(
            "UPDATE articles SET duplicate_of = ?, overlap = ? WHERE id = ?",
            [article_id, overlap, former],
        )
        self.db.execute(
            "UPDATE alerts SET article_id = ? WHERE article_id = ? AND status = 'pending'"
            " AND topic NOT IN (SELECT topic FROM alerts WHERE article_id = ?)",
            [article_id, former, article_id],
        )

    def point_copy_at(self, article_id: int, original: int) -> None:
        """Keep copy chains flat: a copy of a copy points at the original."""
        self.db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ?", [original, article_id])

    def story_candidates(
        self,
        keys: Mapping[str, float],
        window: tuple[str, str, str],
        limit: int,
        per_key: int,
    ) -> list[int]:
        """Stories open at a moment sharing keys with an article, the heaviest shared weight
        first. ``window``: (since, until, horizon): seen since ``since`` (and by
        ``horizon``), started by ``until``."""
        since, until, horizon = window
        weights: dict[int, float] = {}
        # Each key's ``per_key`` most recent stories in the window, read backwards along the
        # table's order (no sort). One statement per key: SQLite keeps it prepared, where
        # one compound query for every key materialises each part first (slower).
        for key, weight in keys.items():
            for (story_id,) in self.db.execute(
                "SELECT story_id FROM story_keys WHERE key = ? AND last_seen >= ?"
                " AND last_seen <= ? ORDER BY last_seen DESC, story_id DESC LIMIT ?",
                [key, since, horizon, per_key],
            ):
                weights[story_id] = weights.get(story_id, 0.0) + weight
        ranked = sorted(weights, key=lambda s: (-weights[s], -s))
        # Of those, the ones started by ``until``: the heaviest checked first, a few at once.
        chosen: list[int] = []
        step = limit + 2
        for start in range(0, len(ranked), step):
            chunk = ranked[start : start + step]
            started = {
                int(r[0])
                for r in self.db.execute(
                    f"SELECT id FROM stories WHERE id IN ({','.join('?' * len(chunk))})"
                    " AND first_seen <= ?",
                    [*chunk, until],
                )
            }
            chosen.extend(s for s in chunk if s in started)
            if len(chosen) >= limit:
                break
        return chosen[:limit]

    def story_members(
        self, story_ids: Sequence[int], per_story: int, lang: str
    ) -> list[tuple[int, int, str]]:
        """(article id, story id, features JSON) of each story's latest articles, by story
        id, then the latest first (the first stored of equals). Articles in another language
        than ``lang`` come without their words (``terms``): only two articles in one
        language compare words."""
        if not story_ids:
            return []
        found: list[tuple[int, int, str]] = []
        for story_id in sorted(story_ids):
            found.extend(
                self.db.execute(
                    "SELECT article_id, story_id, CASE WHEN lang = ? THEN features"
                    f" ELSE {self.FEATURES_WITHOUT_TERMS} END FROM story_features"
                    " WHERE story_id = ? ORDER BY published DESC, article_id LIMIT ?",
                    [lang, story_id, per_story],
                )
            )
        return found

    def article_features(self, article_id: int) -> str | None:
        row = self.db.execute(
            "SELECT features FROM story_features WHERE article_id = ?", [article_id]
        ).fetchone()
        return None if row is None else str(row[0])

    def term_frequencies(self, terms: Iterable[str]) -> tuple[dict[str, int], int]:
        """Document frequency of each term (``lang:stem``) and the number of documents."""
        wanted = list(terms)
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for term, df in self.db.execute(
                f"SELECT term, df FROM story_terms WHERE term IN ({marks})", chunk
            ):
                found[str(term)] = int(df)
        total = self.db.execute("SELECT df FROM story_terms WHERE term = ''").fetchone()
        return found, int(total[0]) if total else 0

    def count_terms(self, terms: Iterable[str]) -> None:
        """One more document holding each of ``terms``."""
        self.db.conn.executemany(
            "INSERT INTO story_terms (term, df) VALUES (?, 1)"
            " ON CONFLICT(term) DO UPDATE SET df = story_terms.df + 1",
            [(t,) for t in ["", *terms]],
        )

    def new_story(self, moment: str) -> int:
        cursor = self.db.execute(
            "INSERT INTO stories (first_seen, last_seen, article_count, relevant, created_at,"
            " updated_at) VALUES (?, ?, 0, 0, ?, ?)",
            [moment, moment, utcnow(), utcnow()],
        )
        assert isinstance(cursor.lastrowid, int)
        return cursor.lastrowid

    def join_story(
        self,
        article_id: int,
        story_id: int,
        published: str,
        lang: str,
        features: str,
        link: Mapping[str, Any],
        keys: Iterable[str],
    ) -> None:
        """Put an article in a story with why (``link``: the story_links columns)."""
        self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        self.db.execute(
            "INSERT OR REPLACE INTO story_features (article_id, story_id, published, lang,"
            " features) VALUES (?, ?, ?, ?, ?)",
            [article_id, story_id, published, lang, features],
        )
        row = {"article_id": article_id, "story_id": story_id, "created_at": utcnow(), **link}
        for name in ("entities", "amounts", "dates"):
            row[name] = json.dumps(list(row.get(name) or []), ensure_ascii=False)
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        self.db.execute(f"INSERT OR REPLACE INTO story_links ({names}) VALUES ({marks})", row)
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, story_id, last_seen) VALUES (?, ?, ?)",
            [(key, story_id, published) for key in keys],
        )
        self.refresh_story(story_id)

    def refresh_story(self, story_id: int) -> None:
        """Recompute a story's summary from its articles (lead: earliest-published original)."""
        rows = self.db.execute(
            "SELECT a.id, a.lang, a.source, a.relevant, a.duplicate_of IS NOT NULL,"
            " f.published, coalesce(a.title, a.url) FROM articles a JOIN story_features f"
            " ON f.article_id = a.id WHERE a.story_id = ?",
            [story_id],
        ).fetchall()
        if not rows:
            return
        # The lead: the earliest-published original, a seed file only when nothing else is.
        lead = min(rows, key=lambda r: (r[2] == "seed", r[4], r[5], r[0]))
        seen = [r[5] for r in rows]
        previous = self.db.execute(
            "SELECT last_seen FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        self.db.execute(
            "UPDATE stories SET first_seen = ?, last_seen = ?, article_count = ?, languages = ?,"
            " sources = ?, relevant = ?, lead_article_id = ?, title = ?, updated_at = ?"
            " WHERE id = ?",
            [
                min(seen), max(seen), len(rows),
                json.dumps(sorted({r[1] for r in rows if r[1]})),
                json.dumps(sorted({r[2] for r in rows}), ensure_ascii=False),
                max(int(r[3] or 0) for r in rows), lead[0], lead[6], utcnow(), story_id,
            ],
        )  # fmt: skip
        if previous is None or previous[0] != max(seen):
            self.db.execute(
                "UPDATE story_keys SET last_seen = ? WHERE story_id = ?", [max(seen), story_id]
            )
