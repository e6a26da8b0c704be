"""One pass: crawl every enabled source, process what is new, record the run.

A Twisted reactor cannot be restarted, so a process runs at most one pass; the scheduler
starts each pass as a subprocess.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from crawler.spiders.news import NewsSpider, StoreSnapshot
from pipelines.config import Config, SourceConfig
from pipelines.health import SourcePass, health_states, update_health
from pipelines.store import insert_row, open_db, table, utcnow

EXIT_OK = 0
EXIT_SOURCE_FAILED = 1
EXIT_USAGE = 2
EXIT_DELIVERY = 3
EXIT_STORE = 4


@dataclass
class SourceReport:
    """Per-source counts of one pass; stored in ``runs.sources`` as JSON."""

    name: str
    requests: int = 0
    discovery_ok: int = 0
    discovery_failed: int = 0
    not_modified: int = 0  # discovery pages answered 304: unchanged, not parsed
    fetched: int = 0
    known: int = 0
    new: int = 0
    duplicates: int = 0
    updated: int = 0
    not_articles: int = 0
    relevant: int = 0
    alerts_queued: int = 0
    bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Failed as a whole: none of its feeds, sitemaps or start pages could be read."""
        return self.discovery_ok == 0 and self.discovery_failed > 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def bad(self) -> bool:
        """Errors that concern the source itself and no article: what source health counts."""
        return _health_input(self).bad

    @classmethod
    def from_stats(cls, name: str, stats: dict[str, Any]) -> SourceReport:
        def n(key: str) -> int:
            return int(stats.get(f"newswatch/{key}", 0))

        errors = {
            k.removeprefix("newswatch/errors/"): int(v)
            for k, v in stats.items()
            if k.startswith("newswatch/errors/")
        }
        exceptions = sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
        if exceptions:
            errors["exception"] = exceptions
        return cls(
            name=name,
            requests=int(stats.get("downloader/request_count", 0)),
            discovery_ok=n("discovery/ok"),
            discovery_failed=n("discovery/failed"),
            not_modified=n("discovery/not_modified"),
            fetched=n("articles/fetched"),
            known=n("articles/known"),
            new=n("articles/new"),
            duplicates=n("articles/duplicate"),
            updated=n("articles/updated"),
            not_articles=n("articles/not_article"),
            relevant=n("articles/relevant"),
            alerts_queued=n("alerts/queued"),
            bytes=int(stats.get("downloader/response_bytes", 0)),
            errors=errors,
        )


@dataclass(frozen=True)
class SourceHealth:
    """A source's health after the pass (see pipelines/health.py)."""

    state: str  # "ok" | "failing"
    bad_passes: int  # bad passes in a row, this one included


@dataclass
class PassReport:
    run_id: int
    sources: list[SourceReport]
    health: dict[str, SourceHealth] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_SOURCE_FAILED if any(s.failed for s in self.sources) else EXIT_OK


def crawl_settings(config: Config, *, baseline: bool = False, verbose: bool = False) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    c = config.crawl
    overrides: dict[str, Any] = {
        "DOWNLOAD_DELAY": c.download_delay,
        "AUTOTHROTTLE_START_DELAY": max(c.autothrottle_start_delay, c.download_delay),
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.concurrent_per_domain,
        "DOWNLOAD_TIMEOUT": c.timeout,
        "ROBOTSTXT_OBEY": c.obey_robots,
        "NEWSWATCH_RETRY_AFTER_MAX": c.retry_after_max,
        "NEWSWATCH_LOADED_CONFIG": config,
        "NEWSWATCH_BASELINE": baseline,
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        "LOG_FORMAT": "%(levelname)s %(name)s: %(message)s",
    }
    if c.user_agent:
        overrides["USER_AGENT"] = c.user_agent
    settings.setdict(overrides, priority="cmdline")
    return settings


def run_pass(
    config: Config,
    *,
    sources: Sequence[SourceConfig] | None = None,
    baseline: bool = False,
    verbose: bool = False,
    on_source: Callable[[SourceReport], None] | None = None,
) -> PassReport:
    """Crawl and process; alerts are queued, not sent (the caller sends them).

    ``on_source`` is called with each source's counts as its crawl finishes (live progress).
    """
    chosen = list(sources if sources is not None else config.enabled_sources())
    db = open_db(config.store_path)
    _close_interrupted_runs(db)
    run_id = insert_row(db, "runs", {"started_at": utcnow(), "status": "running"})
    snapshot = StoreSnapshot.load(db)
    db.close()

    process = CrawlerProcess(crawl_settings(config, baseline=baseline, verbose=verbose))
    collected: dict[str, dict[str, Any]] = {}
    claimed: set[str] = set()  # shared: an article two sources list is fetched once
    for source in chosen:
        crawler = process.create_crawler(NewsSpider)
        _keep_stats(crawler, source.name, collected, on_source)
        process.crawl(crawler, source=source, claimed=claimed, snapshot=snapshot)
    if chosen:
        process.start()

    report = PassReport(
        run_id, [SourceReport.from_stats(s.name, collected.get(s.name, {})) for s in chosen]
    )
    _finish_run(config, report)
    return report


def _keep_stats(
    crawler: Crawler,
    name: str,
    into: dict[str, dict[str, Any]],
    on_source: Callable[[SourceReport], None] | None = None,
) -> None:
    def closed() -> None:
        assert crawler.stats is not None
        into[name] = dict(crawler.stats.get_stats())
        if on_source is not None:
            on_source(SourceReport.from_stats(name, into[name]))

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)


def _finish_run(config: Config, report: PassReport) -> None:
    db = open_db(config.store_path)
    try:
        s = report.sources
        table(db, "runs").update(
            report.run_id,
            {
                "finished_at": utcnow(),
                "status": "failed" if report.exit_code else "ok",
                "exit_code": report.exit_code,
                "fetched": sum(x.fetched for x in s),
                "new": sum(x.new for x in s),
                "duplicates": sum(x.duplicates for x in s),
                "relevant": sum(x.relevant for x in s),
                "errors": sum(x.error_count for x in s),
                "sources": json.dumps({x.name: asdict(x) for x in s}),
            },
        )
        update_health(db, report.run_id, [_health_input(x) for x in s], config)
        states = health_states(db)
        report.health = {
            x.name: SourceHealth(str(h["state"]), int(str(h["bad_passes"])))
            for x in s
            if (h := states.get(x.name))
        }
    finally:
        db.close()


def _health_input(s: SourceReport) -> SourcePass:
    return SourcePass(s.name, s.errors, s.new + s.duplicates + s.updated)


def _close_interrupted_runs(db: sqlite_utils.Database) -> None:
    """A pass killed mid-way leaves its run 'running'; say so instead of pretending."""
    db.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
        [utcnow()],
    )
