"""The thin adapter between Scrapy and the processing core.

It opens the store, has each fetched page prepared (`pipelines.process.prepare_page`: in
the extraction pool, see crawler/pagepool.py, or inline), writes the result on the reactor
thread (`pipelines.process.store_page`: one transaction per page) and turns the outcome
into counters. Nothing is judged here. A page the pool gave up on (over ``[crawl]
extract_timeout``, or it crashed its worker) is counted as an error of that kind and not
stored; the crawl goes on.

A store that cannot be written (locked past its busy timeout, a full disk) ends the crawl:
the page's transaction is rolled back, every crawl of the pass is closed with the reason
``store_error``, and the error is kept in the pass's :class:`StoreFailure`, which the pass
raises once the crawls are closed (exit 4, one line). Nothing more is fetched that could
not be stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import pagepool
from crawler.items import PageItem
from crawler.sources import config_from_settings
from crawler.stats import Stat, error_key, outcome_key
from pipelines import defaults
from pipelines.clock import utcnow
from pipelines.hooks import hooks_for
from pipelines.models import Page, PageHints
from pipelines.pool import PageFailed
from pipelines.process import NOT_AN_ARTICLE, ProcessOptions, is_gone, store_page
from pipelines.seeds import import_seeds
from pipelines.store import Store, StoreError, open_config_store

log = logging.getLogger(__name__)

STORE_FAILURE_SETTING = "NEWSWATCH_STORE_FAILURE"  # the pass's StoreFailure
STORE_ERROR = "store_error"  # the close reason of a crawl stopped by a store error


@dataclass
class StoreFailure:
    """The first store error of a pass, shared by all its crawlers (through the
    ``NEWSWATCH_STORE_FAILURE`` setting); ``stop_all`` closes every crawl of the pass."""

    error: StoreError | None = None
    stop_all: Callable[[], None] | None = field(default=None, repr=False)

    def __deepcopy__(self, memo: dict[int, object]) -> StoreFailure:
        return self  # each crawler's settings are a deep copy: keep one shared object


class StorePipeline:
    def __init__(
        self,
        store: Store,
        options: ProcessOptions,
        stats: StatsCollector,
        crawler: Crawler | None = None,
        runner: pagepool.PageRunner | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.stats = stats
        self.crawler = crawler
        self.runner = runner or pagepool.PageRunner(options, {}, 0, defaults.EXTRACT_TIMEOUT)
        failure = crawler.settings.get(STORE_FAILURE_SETTING) if crawler is not None else None
        self.failure = failure if isinstance(failure, StoreFailure) else StoreFailure()

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
        store = open_config_store(config)
        store.sync_at_checkpoints()  # article writes: see the method
        settings = crawler.settings
        workers = settings.get("NEWSWATCH_WORKERS", config.crawl.workers)
        if getattr(crawler.spider, "check", False):
            workers = 0  # a dry run (`sources check`) reads a page or two: no pool to start
        runner = pagepool.acquire(
            options,
            {s.name: s.hooks for s in config.sources if s.hooks},
            None if workers is None else int(workers),
            settings.getfloat("NEWSWATCH_EXTRACT_TIMEOUT", config.crawl.extract_timeout),
        )
        pipeline = cls(store, options, crawler.stats, crawler, runner)
        try:
            # Dedup needs the seed corpus in place, also for a bare `scrapy crawl`
            # (idempotent).
            import_seeds(store, config.topics)
        except StoreError as exc:
            pipeline.failure.error = pipeline.failure.error or exc  # stop once open
        return pipeline

    def open_spider(self) -> None:
        if self.failure.error is not None:
            self._stop(self.failure.error)

    def close_spider(self) -> None:
        self.store.close()
        pagepool.release(self.runner, self.crawler.engine if self.crawler is not None else None)

    async def process_item(self, item: Any) -> Any:
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
        if self.failure.error is not None:  # the store failed already: store nothing more
            return {"url": item.url, "outcome": STORE_ERROR, "article_id": None}
        if is_gone(page):
            prepared = NOT_AN_ARTICLE
        else:
            engine = self.crawler.engine if self.crawler is not None else None
            try:
                prepared = await maybe_deferred_to_future(self.runner.prepare(page, engine))
            except PageFailed as exc:
                self.stats.inc_value(error_key(exc.kind))
                log.warning("%s", exc)
                return {"url": item.url, "outcome": exc.kind, "article_id": None}
        if self.failure.error is not None:  # the store failed while the page was prepared
            return {"url": item.url, "outcome": STORE_ERROR, "article_id": None}
        try:
            outcome = store_page(self.store, page, prepared, self.options)
        except StoreError as exc:
            self._stop(exc)
            return {"url": item.url, "outcome": STORE_ERROR, "article_id": None}
        self.stats.inc_value(outcome_key(outcome.kind))
        if outcome.relevant and outcome.kind in ("new", "duplicate"):
            self.stats.inc_value(Stat.RELEVANT)
        if outcome.alerts:
            self.stats.inc_value(Stat.ALERTS_QUEUED, outcome.alerts)
        # The item is the page's bytes: returning it would keep them in memory for nothing.
        return {"url": item.url, "outcome": outcome.kind, "article_id": outcome.article_id}

    def _stop(self, error: StoreError) -> None:
        """The first store error stops every crawl of the pass (this one alone outside a
        pass); the pass reports it once."""
        self.failure.error = self.failure.error or error
        self.stats.set_value("newswatch/store_error", str(error))
        log.debug("store error; stopping the crawl: %s", error)
        if self.failure.stop_all is not None:
            self.failure.stop_all()
        elif self.crawler is not None:
            from crawler.deadline import stop_crawl

            stop_crawl(self.crawler, STORE_ERROR, f"database error: {error}")
