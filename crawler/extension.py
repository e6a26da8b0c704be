"""A Scrapy extension that records a crawl of the news spider as a newswatch run.

A bare ``scrapy crawl news -a source=X`` (or a Scrapyd job) behaves like ``newswatch run
--source X --no-send``: when the crawler is built, the extension takes the pass lock and
opens a ``runs`` row (a second pass on the same dataset, or a database that cannot be
written, ends the crawl there with one line and exit 5 or 4, before anything is fetched),
and when the spider closes it records the source's counts and health in that row, with
the functions ``newswatch run`` uses (``crawler/recorder.py``).

Driven by a pass (``crawler/passes.py``, several sources in one process), the pass owns
the run and the lock: it puts its :class:`~crawler.recorder.SourceCounts` in the
``NEWSWATCH_PASS_COUNTS`` setting, and the extension only hands each source's counts to it.
A dry run (``newswatch sources check``) records nothing.

A Scrapyd job of ``newswatch cluster run`` (``crawler/cluster.py``) gets the run of its
pass in the ``NEWSWATCH_RUN_ID`` setting: the pass holds the lock and owns the run, and
the extension adds its source's counts to that run (the pass records health and sends),
under the job's id (``NEWSWATCH_JOB_ID``): several jobs of one source add up, and the pass
sees which of them recorded.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import asdict
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.recorder import SourceCounts, finish_run, open_run
from crawler.sources import config_from_settings
from crawler.spiders.news import NewsSpider
from crawler.stats import SourceReport
from pipelines.config import Config
from pipelines.errors import ExitCode
from pipelines.store import StoreError, open_config_store
from pipelines.store.lock import PassRunning, store_pass_lock

PASS_COUNTS_SETTING = "NEWSWATCH_PASS_COUNTS"
RUN_ID_SETTING = "NEWSWATCH_RUN_ID"  # a job of `newswatch cluster run`: its pass's run
JOB_ID_SETTING = "NEWSWATCH_JOB_ID"  # and its Scrapyd job id

log = logging.getLogger(__name__)


class RunRecorder:
    """Hands a crawl's counts to its pass, or records them as a run of their own."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        counts: SourceCounts | None = None,
        config: Config | None = None,
    ) -> None:
        if (counts is None) == (config is None):
            raise ValueError("a recorder works for a pass (counts) or on its own (config)")
        self.stats = stats
        self.counts = counts
        self.config = config
        self.run_id: int | None = None
        self.joined = False  # the run belongs to a pass of another process
        self.job: str | None = None  # the Scrapyd job id its counts are recorded under
        self.lock = ExitStack()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        settings = crawler.settings
        spider = getattr(crawler, "spider", None)
        if not isinstance(spider, NewsSpider) or spider.check:
            raise NotConfigured  # another spider, or a dry run: nothing to record
        assert crawler.stats is not None
        counts = settings.get(PASS_COUNTS_SETTING)
        if isinstance(counts, SourceCounts):
            recorder = cls(crawler.stats, counts=counts)
        else:
            recorder = cls(crawler.stats, config=config_from_settings(settings))
            if run_id := settings.getint(RUN_ID_SETTING):
                recorder.join_or_exit(run_id)
                recorder.job = settings.get(JOB_ID_SETTING) or None
            else:
                recorder.begin_or_exit()
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def begin_or_exit(self) -> None:
        """Take the lock and open the run while the crawler is built.

        A bare ``scrapy crawl`` refused by the lock or by the database ends here, with one
        line and newswatch's exit code, before anything is fetched (raised from a Scrapy
        component or signal handler, the error would come with a traceback and exit 0 or 1).
        """
        try:
            self.take_lock()
            self.open_run()
        except PassRunning as exc:
            log.error("newswatch: %s", exc)
            raise SystemExit(ExitCode.PASS_RUNNING) from None
        except StoreError as exc:
            log.error("newswatch: database error: %s", exc)
            raise SystemExit(ExitCode.STORE) from None

    def join_or_exit(self, run_id: int) -> None:
        """Record into the run of a pass that another process holds (a cluster pass); a run
        that is not running any more (its pass ended) ends the crawl here, with one line."""
        assert self.config is not None
        try:
            with open_config_store(self.config) as store:
                row = store.run_row(run_id)
        except StoreError as exc:
            log.error("newswatch: database error: %s", exc)
            raise SystemExit(ExitCode.STORE) from None
        if row is None or row["status"] != "running":
            log.error("newswatch: run %d is not running: its pass has ended", run_id)
            raise SystemExit(ExitCode.FAILED)
        self.run_id, self.joined = run_id, True

    def open_run(self) -> None:
        """The ``runs`` row of this crawl (a run a killed crawl left running is closed)."""
        assert self.config is not None
        with open_config_store(self.config) as store:
            self.run_id = open_run(store)

    def take_lock(self) -> None:
        """Raises PassRunning (naming the holder) when another pass runs on the dataset."""
        assert self.config is not None
        self.lock.enter_context(store_pass_lock(self.config))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        report = SourceReport.from_stats(self.source_name(spider), self.stats.get_stats())
        if self.counts is not None:
            self.counts.add(report)
            return
        try:
            self.record(report)
        finally:
            self.lock.close()

    def record(self, report: SourceReport) -> None:
        assert self.config is not None
        if self.run_id is None:  # the spider never opened
            return
        if self.joined:  # the pass finishes the run and records health
            with open_config_store(self.config) as store:
                added = store.add_run_source(self.run_id, report.name, asdict(report), job=self.job)
            log.info("run %d: %s: %d new%s", self.run_id, report.name, report.new,
                     "" if added else " (not recorded: the run has ended)")  # fmt: skip
            return
        with open_config_store(self.config) as store:
            health = finish_run(store, self.run_id, [report], self.config)
        state = health.get(report.name)
        log.info(
            "run %d: %s: %d new, %d relevant, %d error(s), health %s",
            self.run_id,
            report.name,
            report.new,
            report.relevant,
            report.error_count,
            state.state if state else "-",
        )

    @staticmethod
    def source_name(spider: Any) -> str:
        source = getattr(spider, "source", None)
        return str(getattr(source, "name", spider.name))
