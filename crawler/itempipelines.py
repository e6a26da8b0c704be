"""The thin adapter between Scrapy and the processing core.

It opens the store, hands each fetched page to :func:`pipelines.process.process_page` and
turns the outcome into counters. Nothing is judged or written here.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageItem
from crawler.sources import config_from_settings
from crawler.stats import Stat, outcome_key
from pipelines.clock import utcnow
from pipelines.hooks import hooks_for
from pipelines.models import Page, PageHints
from pipelines.process import ProcessOptions, process_page
from pipelines.seeds import import_seeds
from pipelines.store import Store, open_store


class StorePipeline:
    def __init__(self, store: Store, options: ProcessOptions, stats: StatsCollector) -> None:
        self.store = store
        self.options = options
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        config = config_from_settings(crawler.settings)
        options = ProcessOptions(
            topics=config.topics,
            max_age_days=config.alerts.max_age_days,
            baseline=crawler.settings.getbool("NEWSWATCH_BASELINE"),
            hooks={s.name: hooks_for(s) for s in config.sources if s.hooks},
            dedup=config.dedup,
        )
        assert crawler.stats is not None
        store = open_store(config.store_path)
        # Dedup needs the seed corpus in place, also for a bare `scrapy crawl` (idempotent).
        import_seeds(store, config.topics)
        return cls(store, options, crawler.stats)

    def close_spider(self) -> None:
        self.store.close()

    def process_item(self, item: Any) -> Any:
        assert isinstance(item, PageItem)
        hints = item.hints
        page = Page(
            url=item.url,
            final_url=item.final_url,
            canonical_url=hints.get("canonical_url"),
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
        outcome = process_page(self.store, page, self.options)
        self.stats.inc_value(outcome_key(outcome.kind))
        if outcome.relevant and outcome.kind in ("new", "duplicate"):
            self.stats.inc_value(Stat.RELEVANT)
        if outcome.alerts:
            self.stats.inc_value(Stat.ALERTS_QUEUED, outcome.alerts)
        # The item is the page's bytes: returning it would keep them in memory for nothing.
        return {"url": item.url, "outcome": outcome.kind, "article_id": outcome.article_id}
