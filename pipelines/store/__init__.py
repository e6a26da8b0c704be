"""The store: the only place that speaks SQL.

Stages receive a :class:`Store` and call its named operations; none of them writes SQL or
imports sqlite_utils (tests/test_layering.py checks). The operations are grouped by what they
store, one module each: articles, urls, shingles, validators, outbox, runs, queries; the
schema and its migrations are in ``schema``, the pass lock in ``lock``. SQLite
(sqlite-utils) is the embedded backend.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from pipelines.clock import iso_utc, utcnow
from pipelines.store.articles import ArticleOps
from pipelines.store.base import StoreBase, StoreError, transaction
from pipelines.store.outbox import OutboxOps
from pipelines.store.queries import QueryOps
from pipelines.store.runs import RunOps
from pipelines.store.schema import MIGRATIONS, migrate, migration, table
from pipelines.store.shingles import ShingleOps
from pipelines.store.urls import UrlOps
from pipelines.store.validators import ValidatorOps
from pipelines.urls import same_site, url_key

__all__ = [
    "MIGRATIONS",
    "Store",
    "StoreError",
    "iso_utc",
    "migrate",
    "migration",
    "open_db",
    "open_store",
    "table",
    "transaction",
    "utcnow",
]


class Store(ArticleOps, UrlOps, ShingleOps, ValidatorOps, OutboxOps, RunOps, QueryOps, StoreBase):
    """The dataset, through named operations (see the modules of this package)."""


def open_store(path: Path) -> Store:
    """Open (creating and migrating if needed) the dataset at ``path``; errors name the file."""
    return Store(open_db(path), path)


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the dataset; errors name the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        migrate(db)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    return db


# A page that answered 404/410 may be a feed item published before its page went live:
# it is tried again once a day, three times at most, then left alone.
GONE_RETRY_AFTER = timedelta(hours=24)
GONE_MAX_FAILS = 3


def known_url_keys(db: sqlite_utils.Database) -> set[str]:
    """URL keys not to fetch: articles, remembered non-articles, and gone pages not yet due."""
    keys = {r[0] for r in db.execute("SELECT url_key FROM articles")}
    retry_before = (datetime.now(UTC) - GONE_RETRY_AFTER).replace(microsecond=0).isoformat()
    keys |= {
        r[0]
        for r in db.execute(
            "SELECT url_key FROM seen_urls WHERE status != 'gone' OR fails >= ? OR last_seen > ?",
            [GONE_MAX_FAILS, retry_before],
        )
    }
    return keys


def article_check_times(db: sqlite_utils.Database) -> dict[str, str]:
    """When each stored article's page was last fetched (URL key -> ISO 8601 UTC)."""
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT a.url_key, COALESCE(MAX(s.last_seen), a.fetched_at) FROM articles a"
            " LEFT JOIN seen_urls s ON s.article_id = a.id AND s.status = 'article'"
            " WHERE a.source != 'seed' GROUP BY a.id"
        )
    }


def remember_url(
    db: sqlite_utils.Database,
    *,
    url_key: str,
    url: str,
    source: str,
    status: str,
    http_status: int | None = None,
    article_id: int | None = None,
) -> None:
    now = utcnow()
    db.execute(
        "INSERT INTO seen_urls (url_key, url, source, status, http_status, first_seen,"
        " last_seen, article_id, fails) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(url_key) DO UPDATE SET status=excluded.status,"
        " fails=CASE WHEN excluded.status = 'gone' THEN seen_urls.fails + 1 ELSE 0 END,"
        " http_status=excluded.http_status, last_seen=excluded.last_seen,"
        " article_id=coalesce(excluded.article_id, seen_urls.article_id)",
        [url_key, url, source, status, http_status, now, now, article_id, int(status == "gone")],
    )


# One source's discovery pages: url -> (ETag, Last-Modified, links JSON).
Validators = dict[str, tuple[str, str, str]]


def load_validators(db: sqlite_utils.Database, source: str) -> Validators:
    """A source's discovery pages: ETag, Last-Modified, links ("" when there are none)."""
    rows = db.execute(
        "SELECT url, coalesce(etag, ''), coalesce(last_modified, ''), coalesce(links, '')"
        " FROM http_validators WHERE source = ?",
        [source],
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def save_validators(db: sqlite_utils.Database, source: str, validators: Validators) -> None:
    now = utcnow()
    with transaction(db):
        for url, (etag, modified, links) in validators.items():
            db.execute(
                "INSERT OR REPLACE INTO http_validators (url, source, etag, last_modified,"
                " links, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                [url, source, etag or None, modified or None, links or None, now],
            )


def canonical_target(db: sqlite_utils.Database, url: str, canonical: str | None) -> str | None:
    """The stored article a page's rel=canonical names, when it is another URL of its site.

    A copy on another site that names the original stays a row of its own (a duplicate),
    so that alerts can list where else an article appeared.
    """
    if not canonical or url_key(canonical) == url_key(url) or not same_site(canonical, url):
        return None
    row = db.execute("SELECT url FROM articles WHERE url_key = ?", [url_key(canonical)]).fetchone()
    return str(row[0]) if row else None


def record_canonical(db: sqlite_utils.Database, article_id: int, canonical: str) -> None:
    db.execute("UPDATE articles SET canonical_url = ? WHERE id = ?", [canonical, article_id])


def insert_row(db: sqlite_utils.Database, name: str, row: dict[str, object]) -> int:
    """Insert one row and return its integer primary key."""
    pk = table(db, name).insert(row).last_pk
    assert isinstance(pk, int)
    return pk
