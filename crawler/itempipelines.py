"""The thin adapter between Scrapy and the processing core.

It reads settings, hands each fetched page to :func:`pipelines.process.process_page` and
turns the outcome into counters. Nothing is judged here.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageItem
from crawler.sources import config_from_settings
from pipelines.models import Page, PageHints
from pipelines.process import ProcessOptions, process_page
from pipelines.seeds import import_seeds
from pipelines.store import canonical_target, open_db, record_canonical, utcnow


class StorePipeline:
    def __init__(
        self, db: sqlite_utils.Database, options: ProcessOptions, stats: StatsCollector
    ) -> None:
        self.db = db
        self.options = options
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        config = config_from_settings(crawler.settings)
        options = ProcessOptions(
            topics=config.topics,
            max_age_days=config.alerts.max_age_days,
            baseline=crawler.settings.getbool("NEWSWATCH_BASELINE"),
        )
        assert crawler.stats is not None
        db = open_db(config.store_path)
        # Dedup needs the seed corpus in place, also for a bare `scrapy crawl` (idempotent).
        import_seeds(db, config.topics)
        return cls(db, options, crawler.stats)

    def close_spider(self) -> None:
        self.db.close()

    def process_item(self, item: Any) -> Any:
        assert isinstance(item, PageItem)
        hints = item.hints
        canonical = hints.get("canonical_url")
        # A page whose rel=canonical names a stored article of its site is that article
        # when it carries that article's text: no second row, no alert, both URLs remembered.
        page = Page(
            url=item.url,
            final_url=item.final_url,
            canonical_of=canonical_target(self.db, item.final_url, canonical),
            body=item.body,
            source=item.source,
            found_via=item.found_via,
            encoding=item.encoding,
            status=item.status,
            hints=PageHints(
                feed_title=hints.get("feed_title"),
                feed_published=hints.get("feed_published"),
                lang=hints.get("lang"),
                fetched_at=utcnow(),
                found_via=item.found_via,
            ),
        )
        outcome = process_page(self.db, page, self.options)
        if canonical and outcome.article_id and outcome.kind in ("new", "duplicate"):
            record_canonical(self.db, outcome.article_id, canonical)
        self.stats.inc_value(f"newswatch/articles/{outcome.kind}")
        if outcome.relevant and outcome.kind in ("new", "duplicate"):
            self.stats.inc_value("newswatch/articles/relevant")
        if outcome.alerts:
            self.stats.inc_value("newswatch/alerts/queued", outcome.alerts)
        # The item is the page's bytes: returning it would keep them in memory for nothing.
        return {"url": item.url, "outcome": outcome.kind, "article_id": outcome.article_id}
