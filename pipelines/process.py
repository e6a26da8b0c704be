"""One fetched page through the core stages: extract -> dedup -> topics -> store.

Everything an article produces (its row, its shingles, its alert rows, the URLs it is known
by) is written in one transaction, so a crash leaves either all of it or none of it, and the
outbox never holds an alert for an article that is not stored.

A page goes through two steps. `prepare_page` is pure CPU work and needs no store
(decoding, trafilatura, metadata, language, topic matching, the dedup fingerprint): it runs
in a worker of the extraction pool (pipelines/pool.py), or inline. `store_page` is the
writer: the store's reads and the one transaction, in the process that owns the store.
`process_page` is both, one after the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pipelines.clock import utcnow
from pipelines.dedup import (
    Duplicate,
    Fingerprint,
    find_duplicate,
    fingerprint,
    index_document,
    same_text,
)
from pipelines.hooks import NO_HOOKS, SourceHooks
from pipelines.models import Article, DedupRules, Match, Page
from pipelines.topics import Topic, match_topics
from pipelines.urls import canonical_url, url_key

if TYPE_CHECKING:  # the workers that prepare pages never open a store
    from pipelines.store import Store


@dataclass(frozen=True)
class ProcessOptions:
    topics: Sequence[Topic]
    max_age_days: int = 30  # relevant articles older than this are stored, not alerted
    baseline: bool = False  # store what is there now, alert on nothing
    # Per-source hooks (pipelines/hooks.py) by source name; a source without any is absent.
    hooks: Mapping[str, SourceHooks] = field(default_factory=dict)
    dedup: DedupRules = DedupRules()  # [dedup]: when an article is a copy


@dataclass(frozen=True)
class Outcome:
    """What became of a page; the item-pipeline adapter turns it into counters."""

    kind: str  # "new" | "duplicate" | "updated" | "unchanged" | "not_article" | "gone"
    article_id: int | None = None
    relevant: bool = False
    alerts: int = 0
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Prepared:
    """What the pure step found on a page: the article (None: not an article), the topics
    it matches and its dedup fingerprint. Small and picklable: a worker sends it back."""

    article: Article | None
    matches: tuple[Match, ...] = ()
    fingerprint: Fingerprint | None = None
    canonical_url: str | None = None  # the page's <link rel="canonical">, as the page says


NOT_AN_ARTICLE = Prepared(None)


def is_gone(page: Page) -> bool:
    """404/410, or a redirect to the page itself (the only 3xx the crawler hands over)."""
    return page.status in (404, 410) or 300 <= page.status < 400


def prepare_page(page: Page, options: ProcessOptions) -> Prepared:
    """The page's CPU work, without the store: extraction, topics, dedup fingerprint."""
    if is_gone(page):
        return NOT_AN_ARTICLE
    # Imported here: the crawling process, which only writes, never loads trafilatura
    # (the extraction pool's workers have it from their forkserver).
    from pipelines.extract import extract_page

    extracted = extract_page(
        page.body,
        page.final_url,
        hints=page.hints,
        encoding=page.encoding,
        hooks=options.hooks.get(page.source, NO_HOOKS),
    )
    article = extracted.article
    if article is None:
        return NOT_AN_ARTICLE
    matches = tuple(match_topics(article, options.topics))
    return Prepared(article, matches, fingerprint(article.text), extracted.canonical_url)


def process_page(store: Store, page: Page, options: ProcessOptions) -> Outcome:
    """Judge one fetched page and write all it produces in one transaction."""
    return store_page(store, page, prepare_page(page, options), options)


def store_page(store: Store, page: Page, prepared: Prepared, options: ProcessOptions) -> Outcome:
    """The writer's step: what `prepare_page` found, checked against the store and written
    in one transaction."""
    keys = {url_key(page.url), url_key(page.final_url)}
    if is_gone(page):
        with store.transaction():
            _remember(store, page, {url_key(page.url)}, "gone")
        return Outcome("gone")
    article = prepared.article
    if article is None or prepared.fingerprint is None:
        with store.transaction():
            _remember(store, page, keys, "not_article")
        return Outcome("not_article")
    if page.canonical_url is None and prepared.canonical_url:
        page = replace(page, canonical_url=prepared.canonical_url)  # read from the page
    stored = store.article_id_by_keys(keys)
    if stored is None:
        # A page whose rel=canonical names a stored article of its site is that article
        # when it carries that article's text: no second row, no alert, both URLs remembered.
        claimed_url = store.canonical_target(page.final_url, page.canonical_url)
        claimed = store.article_id_by_keys([url_key(claimed_url)]) if claimed_url else None
        if claimed is not None and _same_text(store, claimed, article.text, options.dedup):
            # Another URL of a stored article (an AMP twin, a print view): remember it.
            with store.transaction():
                _remember(store, page, keys, "article", claimed)
            return Outcome("unchanged", claimed)
        # A canonical link that names another text (page 2 of a story, a CMS that points
        # every page at its home) is not believed: the page is judged on its own.
    if stored is not None:
        return _update(store, stored, prepared, page, options, keys)
    return _insert(store, prepared, page, options, keys)


def _same_text(store: Store, article_id: int, text: str, rules: DedupRules) -> bool:
    stored = store.article_text(article_id)
    return stored is not None and same_text(text, stored, rules)


def _remember(
    store: Store,
    page: Page,
    keys: set[str],
    status: str,
    article_id: int | None = None,
) -> None:
    """Every URL the page is known by, so that none of them is fetched again."""
    for key in keys:
        store.remember_url(
            url_key=key,
            url=canonical_url(page.final_url),
            source=page.source,
            status=status,
            http_status=page.status,
            article_id=article_id,
        )


def _insert(
    store: Store, prepared: Prepared, page: Page, options: ProcessOptions, keys: set[str]
) -> Outcome:
    article, matches, marks = prepared.article, list(prepared.matches), prepared.fingerprint
    assert article is not None and marks is not None
    dup = find_duplicate(store, article.text, rules=options.dedup, prepared=marks)
    now = utcnow()
    with store.transaction():
        # Asked again inside the write transaction: another crawl (a Scrapyd job, a process
        # on a shared frontier) may have stored the page since it was looked up.
        store.lock_url_keys(keys)
        stored = store.article_id_by_keys(keys)
        if stored is None:
            article_id = store.insert_article(_row(article, page, matches, dup, now, marks))
            if dup is None:
                index_document(store, article_id, article.text, marks.index)
            _remember(store, page, keys, "article", article_id)
            alerts = 0
            if dup is None and _alertable(article, options):
                alerts = store.queue_alerts(article_id, _alerting(matches), now)
    if stored is not None:
        return _update(store, stored, prepared, page, options, keys)
    return Outcome(
        "duplicate" if dup else "new",
        article_id,
        bool(_alerting(matches)),
        alerts,
        dup.article_id if dup else None,
    )


def _update(
    store: Store,
    article_id: int,
    prepared: Prepared,
    page: Page,
    options: ProcessOptions,
    keys: set[str],
) -> Outcome:
    """The same article again (same URL, or a redirect to it): refresh its text in place.

    No alert is sent twice for one article and topic, and a topic the article matched
    before (alerted or not, e.g. stored by a baseline pass) raises none; an original that
    an edit makes match a topic it did not match before raises that topic's first alert.
    """
    article, matches, marks = prepared.article, list(prepared.matches), prepared.fingerprint
    assert article is not None and marks is not None
    digest = marks.content_hash
    if store.article_content_hash(article_id) == digest:
        with store.transaction():
            _remember(store, page, keys, "article", article_id)
        return Outcome("unchanged", article_id)
    now = utcnow()
    alerts = 0
    with store.transaction():
        _remember(store, page, keys, "article", article_id)
        before = store.article_state(article_id)
        newly = [t for t in _alerting(matches) if t not in before.topics]
        if before.original and newly and _alertable(article, options):
            alerts = store.queue_alerts(article_id, newly, now)
        store.update_article(
            article_id,
            {
                "title": article.title,
                "text": article.text,
                "updated_at": now,
                "content_hash": digest,
                "relevant": int(bool(_alerting(matches))),
                "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
            },
        )
        if before.indexed:
            index_document(store, article_id, article.text, marks.index)
    return Outcome("updated", article_id, bool(_alerting(matches)), alerts)


def _row(
    article: Article,
    page: Page,
    matches: list[Match],
    dup: Duplicate | None,
    now: str,
    marks: Fingerprint,
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
        "content_hash": marks.content_hash,
        "duplicate_of": dup.article_id if dup else None,
        "overlap": dup.overlap if dup else None,
        "relevant": int(bool(_alerting(matches))),
        "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
        "found_via": page.found_via,
        "feed_title": page.hints.feed_title,
        "canonical_url": page.canonical_url or None,
    }


def _alerting(matches: Sequence[Match]) -> list[str]:
    """The topics an article is relevant to: its matches, not the reactions it is only
    context for (a topic's ``reactions = "context"``; they are stored, never alerted)."""
    return [m.topic for m in matches if m.kind == "match"]


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
