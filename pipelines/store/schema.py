"""The dataset's schema: registered migrations, each safe to apply twice.

The file is a contract other tools read (sqlite-utils, Datasette, pandas, plain sqlite3), so
the schema only changes through the migrations below; applied names are kept in
``_migrations``. See docs/dataset.md for the tables and what every column means.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils
from sqlite_utils.db import Table

from pipelines.clock import utcnow
from pipelines.store.base import transaction

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []
# name -> SELECT of every view (pipelines/store/views.py). Views are dropped before pending
# migrations run and created again after, so a migration may rebuild a table they read.
VIEWS: dict[str, str] = {}


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def table(db: sqlite_utils.Database, name: str) -> Table:
    t = db[name]
    assert isinstance(t, Table)
    return t


@migration
def m001_core_tables(db: sqlite_utils.Database) -> None:
    table(db, "articles").create(
        {
            "id": int,
            "url": str,
            "url_key": str,
            "final_url": str,
            "source": str,
            "lang": str,
            "title": str,
            "text": str,
            "author": str,
            "site": str,
            "published": str,
            "date_source": str,
            "fetched_at": str,
            "updated_at": str,
            "content_hash": str,
            "duplicate_of": int,
            "overlap": float,
            "relevant": int,
            "topics": str,
            "found_via": str,
            "feed_title": str,
        },
        pk="id",
        not_null={"url", "url_key", "source", "text", "fetched_at"},
        defaults={"relevant": 0, "topics": "[]"},
        foreign_keys=[("duplicate_of", "articles", "id")],
        if_not_exists=True,
    )
    table(db, "articles").create_index(["url_key"], unique=True, if_not_exists=True)
    table(db, "articles").create_index(["content_hash"], if_not_exists=True)
    table(db, "articles").create_index(["source", "fetched_at"], if_not_exists=True)
    table(db, "alerts").create(
        {
            "id": int,
            "article_id": int,
            "topic": str,
            "created_at": str,
            "status": str,
            "attempts": int,
            "sent_at": str,
            "last_error": str,
            "recipients": str,
            "message_id": str,
        },
        pk="id",
        not_null={"article_id", "topic", "created_at", "status"},
        defaults={"status": "pending", "attempts": 0},
        foreign_keys=[("article_id", "articles", "id")],
        if_not_exists=True,
    )
    table(db, "alerts").create_index(["article_id", "topic"], unique=True, if_not_exists=True)
    table(db, "alerts").create_index(["status"], if_not_exists=True)
    table(db, "runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "exit_code": int,
            "fetched": int,
            "new": int,
            "duplicates": int,
            "relevant": int,
            "errors": int,
            "alerts_sent": int,
            "sources": str,
        },
        pk="id",
        not_null={"started_at", "status"},
        if_not_exists=True,
    )


@migration
def m002_seen_urls_and_shingles(db: sqlite_utils.Database) -> None:
    # Pages fetched that are not articles (section pages linked as articles, contact pages,
    # 404s) are remembered too: otherwise every pass would fetch them again.
    table(db, "seen_urls").create(
        {
            "url_key": str,
            "url": str,
            "source": str,
            "status": str,
            "http_status": int,
            "first_seen": str,
            "last_seen": str,
            "article_id": int,
            "fails": int,
        },
        pk="url_key",
        defaults={"fails": 0},
        if_not_exists=True,
    )
    # The near-duplicate index: sampled word-shingle hashes of every original document.
    # WITHOUT ROWID keeps (hash, article_id) clustered, so a lookup is an index range scan.
    db.execute(
        "CREATE TABLE IF NOT EXISTS shingles (hash INTEGER NOT NULL, article_id INTEGER NOT NULL,"
        " PRIMARY KEY (hash, article_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX IF NOT EXISTS shingles_article ON shingles(article_id)")


@migration
def m003_full_text_search(db: sqlite_utils.Database) -> None:
    if not table(db, "articles").detect_fts():
        table(db, "articles").enable_fts(
            ["title", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
        )


@migration
def m004_validators_and_source_health(db: sqlite_utils.Database) -> None:
    # ETag / Last-Modified of every feed, sitemap and section page, sent back as
    # If-None-Match / If-Modified-Since so that an unchanged page costs a 304 and no parse.
    # links (JSON): what a 304 would hide, an index's sitemaps or the feeds a page advertises.
    table(db, "http_validators").create(
        {
            "url": str,
            "source": str,
            "etag": str,
            "last_modified": str,
            "links": str,
            "checked_at": str,
        },
        pk="url",
        if_not_exists=True,
    )
    # The page's own <link rel="canonical">, as it said it (NULL when it names none).
    articles = table(db, "articles")
    if "canonical_url" not in articles.columns_dict:
        articles.add_column("canonical_url", str)
    # Per-source health (see pipelines/health.py) and the operator-notice outbox it fills.
    table(db, "source_health").create(
        {
            "source": str,
            "state": str,
            "bad_passes": int,
            "since": str,
            "last_run_id": int,
            "last_error": str,
            "updated_at": str,
        },
        pk="source",
        not_null={"state"},
        defaults={"state": "ok", "bad_passes": 0},
        if_not_exists=True,
    )
    table(db, "notices").create(
        {
            "id": int,
            "source": str,
            "kind": str,
            "run_id": int,
            "detail": str,
            "created_at": str,
            "status": str,
            "attempts": int,
            "sent_at": str,
            "last_error": str,
            "recipients": str,
            "message_id": str,
        },
        pk="id",
        not_null={"source", "kind", "created_at", "status"},
        defaults={"status": "pending", "attempts": 0},
        if_not_exists=True,
    )
    table(db, "notices").create_index(["status"], if_not_exists=True)


@migration
def m005_alert_backoff(db: sqlite_utils.Database) -> None:
    # A delivery error puts an alert back with a time before which no pass retries it;
    # NULL means "as soon as possible" (every row queued before this migration).
    alerts = table(db, "alerts")
    if "next_attempt_at" not in alerts.columns_dict:
        alerts.add_column("next_attempt_at", str)
    alerts.create_index(["status", "next_attempt_at"], if_not_exists=True)


@migration
def m006_validators_per_source(db: sqlite_utils.Database) -> None:
    # Keyed by URL alone, two sources sharing a discovery page (one site's feed configured
    # twice, a shared sitemap) overwrote each other's validators and remembered links.
    # Rebuilt by hand: sqlite-utils' transform() commits on its own, inside our transaction.
    if table(db, "http_validators").pks == ["source", "url"]:
        return
    db.execute(
        "CREATE TABLE http_validators_new (source TEXT NOT NULL, url TEXT NOT NULL, etag TEXT,"
        " last_modified TEXT, links TEXT, checked_at TEXT, PRIMARY KEY (source, url))"
    )
    db.execute(
        "INSERT INTO http_validators_new (source, url, etag, last_modified, links, checked_at)"
        " SELECT coalesce(source, ''), url, etag, last_modified, links, checked_at"
        " FROM http_validators"
    )
    db.execute("DROP TABLE http_validators")
    db.execute("ALTER TABLE http_validators_new RENAME TO http_validators")


@migration
def m007_notice_backoff(db: sqlite_utils.Database) -> None:
    # Operator notices wait out a backoff after a refusal, as alerts do (m005).
    notices = table(db, "notices")
    if "next_attempt_at" not in notices.columns_dict:
        notices.add_column("next_attempt_at", str)


@migration
def m008_rehash_for_split_words(db: sqlite_utils.Database) -> None:
    # Word normalisation now joins words split at line ends and drops invisible characters
    # (soft hyphens, zero-width joiners): rows stored before keep the old hashes and
    # shingles, so an exact copy of one of them would not be found. Recompute both.
    from pipelines.dedup import content_hash, shingle_hashes
    from pipelines.store.shingles import replace_shingles

    indexed = {r[0] for r in db.execute("SELECT DISTINCT article_id FROM shingles")}
    rows = db.execute("SELECT id, text FROM articles").fetchall()
    db.conn.executemany(
        "UPDATE articles SET content_hash = ? WHERE id = ?",
        [(content_hash(text), article_id) for article_id, text in rows],
    )
    for article_id, text in rows:
        if article_id in indexed:
            replace_shingles(db, article_id, shingle_hashes(text))


@migration
def m009_deliveries_per_channel(db: sqlite_utils.Database) -> None:
    # Delivery state per (item, channel), so that a second channel (a webhook next to
    # email) keeps its own attempts and backoff; alerts and notices keep the summary.
    # Everything queued or sent before went by email.
    table(db, "deliveries").create(
        {
            "id": int,
            "kind": str,  # "alert" | "notice"
            "item_id": int,  # alerts.id or notices.id
            "channel": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "sent_at": str,
            "last_error": str,
            "recipients": str,
            "message_id": str,
        },
        pk="id",
        not_null={"kind", "item_id", "channel", "status", "attempts"},
        defaults={"status": "pending", "attempts": 0},
        if_not_exists=True,
    )
    deliveries = table(db, "deliveries")
    deliveries.create_index(["kind", "item_id", "channel"], unique=True, if_not_exists=True)
    deliveries.create_index(["status", "next_attempt_at"], if_not_exists=True)
    for kind, source in (("alert", "alerts"), ("notice", "notices")):
        db.execute(
            "INSERT OR IGNORE INTO deliveries (kind, item_id, channel, status, attempts,"
            " next_attempt_at, sent_at, last_error, recipients, message_id)"
            f" SELECT ?, id, 'email', status, coalesce(attempts, 0), next_attempt_at, sent_at,"
            f" last_error, recipients, message_id FROM {source}",
            [kind],
        )


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet applied; returns their names."""
    done = _applied(db)
    if done >= {name for name, _ in MIGRATIONS}:
        # Up to date, as nearly always: one query instead of sqlite-utils' checks of the
        # table (~3 ms, and a pass opens the dataset once or twice for each source).
        return []
    table(db, "_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    applied = []
    # By name: a migration may be defined beside the store operations it serves (any module
    # of this package), and the names' numbers say the order.
    pending = [(name, fn) for name, fn in sorted(MIGRATIONS) if name not in done]
    if pending:
        with transaction(db):
            for view in VIEWS:
                db.execute(f"DROP VIEW IF EXISTS {view}")
    for name, fn in pending:
        with transaction(db):
            fn(db)
            table(db, "_migrations").insert({"name": name, "applied_at": utcnow()})
        applied.append(name)
    if pending:
        with transaction(db):
            for view, select in VIEWS.items():
                db.execute(f"CREATE VIEW IF NOT EXISTS {view} AS {select}")
    return applied


def _applied(db: sqlite_utils.Database) -> set[str]:
    """The migrations applied to ``db`` (none for a new dataset)."""
    try:
        return {str(row[0]) for row in db.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return set()
        raise
