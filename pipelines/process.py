"""One fetched page through the core stages: extract -> dedup -> topics -> store.

Everything an article produces (its row, its shingles, its alert rows, the URLs it is known
by) is written in one transaction, so a crash leaves either all of it or none of it, and the
outbox never holds an alert for an article that is not stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlite_utils

from pipelines.dedup import Duplicate, content_hash, find_duplicate, index_document, same_text
from pipelines.extract import extract_article
from pipelines.models import Article, Match, Page
from pipelines.store import insert_row, remember_url, table, transaction, utcnow
from pipelines.topics import Topic, match_topics
from pipelines.urls import canonical_url, url_key


@dataclass(frozen=True)
class ProcessOptions:
    topics: Sequence[Topic]
    max_age_days: int = 30  # relevant articles older than this are stored, not alerted
    baseline: bool = False  # store what is there now, alert on nothing


@dataclass(frozen=True)
class Outcome:
    """What became of a page; the item-pipeline adapter turns it into counters."""

    kind: str  # "new" | "duplicate" | "updated" | "unchanged" | "not_article" | "gone"
    article_id: int | None = None
    relevant: bool = False
    alerts: int = 0
    duplicate_of: int | None = None


def process_page(db: sqlite_utils.Database, page: Page, options: ProcessOptions) -> Outcome:
    keys = {url_key(page.url), url_key(page.final_url)}
    if page.status in (404, 410):
        with transaction(db):
            _remember(db, page, {url_key(page.url)}, "gone")
        return Outcome("gone")
    stored = _stored_article(db, keys)
    article = extract_article(page.body, page.final_url, hints=page.hints, encoding=page.encoding)
    if article is None:
        with transaction(db):
            _remember(db, page, keys, "not_article")
        return Outcome("not_article")
    if stored is None and page.canonical_of is not None:
        claimed = _stored_article(db, {url_key(page.canonical_of)})
        if claimed is not None and _same_text(db, claimed, article.text):
            # Another URL of a stored article (an AMP twin, a print view): remember it.
            with transaction(db):
                _remember(db, page, keys, "article", claimed)
            return Outcome("unchanged", claimed)
        # A canonical link that names another text (page 2 of a story, a CMS that points
        # every page at its home) is not believed: the page is judged on its own.
    if stored is not None:
        return _update(db, stored, article, page, options, keys)
    return _insert(db, article, page, options, keys)


def _same_text(db: sqlite_utils.Database, article_id: int, text: str) -> bool:
    row = db.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
    return row is not None and same_text(text, row[0])


def _remember(
    db: sqlite_utils.Database,
    page: Page,
    keys: set[str],
    status: str,
    article_id: int | None = None,
) -> None:
    """Every URL the page is known by, so that none of them is fetched again."""
    for key in keys:
        remember_url(
            db,
            url_key=key,
            url=canonical_url(page.final_url),
            source=page.source,
            status=status,
            http_status=page.status,
            article_id=article_id,
        )


def _stored_article(db: sqlite_utils.Database, keys: set[str]) -> int | None:
    """A redirect target or a variant URL of an article we already hold."""
    for key in keys:
        row = db.execute("SELECT id FROM articles WHERE url_key = ?", [key]).fetchone()
        if row:
            return int(row[0])
    return None


def _insert(
    db: sqlite_utils.Database, article: Article, page: Page, options: ProcessOptions, keys: set[str]
) -> Outcome:
    matches = match_topics(article, options.topics)
    dup = find_duplicate(db, article.text)
    now = utcnow()
    with transaction(db):
        article_id = insert_row(db, "articles", _row(article, page, matches, dup, now))
        if dup is None:
            index_document(db, article_id, article.text)
        _remember(db, page, keys, "article", article_id)
        alerts = 0
        if dup is None and _alertable(article, options):
            alerts = _queue_alerts(db, article_id, matches, now)
    return Outcome(
        "duplicate" if dup else "new",
        article_id,
        bool(matches),
        alerts,
        dup.article_id if dup else None,
    )


def _update(
    db: sqlite_utils.Database,
    article_id: int,
    article: Article,
    page: Page,
    options: ProcessOptions,
    keys: set[str],
) -> Outcome:
    """The same article again (same URL, or a redirect to it): refresh its text in place.

    No alert is sent twice for one article and topic, and a topic the article matched
    before (alerted or not, e.g. stored by a baseline pass) raises none; an original that
    an edit makes match a topic it did not match before raises that topic's first alert.
    """
    digest = content_hash(article.text)
    old = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
    if old and old[0] == digest:
        with transaction(db):
            _remember(db, page, keys, "article", article_id)
        return Outcome("unchanged", article_id)
    matches = match_topics(article, options.topics)
    now = utcnow()
    alerts = 0
    with transaction(db):
        _remember(db, page, keys, "article", article_id)
        original, before = db.execute(
            "SELECT duplicate_of IS NULL, topics FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        matched_before = {m.get("topic") for m in json.loads(before or "[]")}
        newly = [m for m in matches if m.topic not in matched_before]
        if original and newly and _alertable(article, options):
            alerts = _queue_alerts(db, article_id, newly, now)
        table(db, "articles").update(
            article_id,
            {
                "title": article.title,
                "text": article.text,
                "updated_at": now,
                "content_hash": digest,
                "relevant": int(bool(matches)),
                "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
            },
        )
        if db.execute(
            "SELECT 1 FROM shingles WHERE article_id = ? LIMIT 1", [article_id]
        ).fetchone():
            index_document(db, article_id, article.text)
    return Outcome("updated", article_id, bool(matches), alerts)


def _row(
    article: Article, page: Page, matches: list[Match], dup: Duplicate | None, now: str
) -> dict[str, object]:
    return {
        "url": canonical_url(page.final_url),
        "url_key": url_key(page.final_url),
        "final_url": page.final_url,
        "source": page.source,
        "lang": article.lang,
        "title": article.title,
        "text": article.text,
        "author": article.author,
        "site": article.site,
        "published": article.published,
        "date_source": article.date_source,
        "fetched_at": now,
        "updated_at": now,
        "content_hash": content_hash(article.text),
        "duplicate_of": dup.article_id if dup else None,
        "overlap": dup.overlap if dup else None,
        "relevant": int(bool(matches)),
        "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
        "found_via": page.found_via,
        "feed_title": page.hints.feed_title,
    }


def _alertable(article: Article, options: ProcessOptions) -> bool:
    if options.baseline:
        return False
    if options.max_age_days <= 0 or not article.published:
        return True
    try:
        published = date.fromisoformat(article.published[:10])
    except ValueError:
        return True
    return published >= datetime.now(UTC).date() - timedelta(days=options.max_age_days)


def _queue_alerts(
    db: sqlite_utils.Database, article_id: int, matches: list[Match], now: str
) -> int:
    """Queue one alert per matched topic not alerted before; returns how many were new."""
    queued = 0
    for m in matches:
        cursor = db.execute(
            "INSERT OR IGNORE INTO alerts (article_id, topic, created_at, status, attempts)"
            " VALUES (?, ?, ?, 'pending', 0)",
            [article_id, m.topic, now],
        )
        queued += cursor.rowcount
    return queued
