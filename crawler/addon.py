"""A Scrapy add-on that maps ``newswatch.toml`` ``[crawl]`` onto Scrapy settings.

``crawler/settings.py`` enables it (``ADDONS``), so every way of starting the news spider
gets the same politeness: ``newswatch run``, ``scrapy crawl news -a source=X`` with
``NEWSWATCH_CONFIG`` (the setting or the environment variable), a Scrapyd job. Add-on
settings rank below the project's, so the project settings leave these names alone; a
``-s NAME=VALUE`` on the command line still wins over the config, as Scrapy users expect.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.settings import BaseSettings

from crawler.guard import TargetPolicy
from crawler.sources import config_from_settings
from pipelines import defaults
from pipelines.config import Config, CrawlConfig, resolve_config_path

log = logging.getLogger(__name__)


def crawl_settings_of(crawl: CrawlConfig) -> dict[str, Any]:
    """The Scrapy settings a ``[crawl]`` table stands for."""
    return {
        # No delay asked at all: AutoThrottle would otherwise bring one back (the latency
        # of each answer) and hold every site to about one request at a time.
        "AUTOTHROTTLE_ENABLED": crawl.download_delay > 0 or crawl.autothrottle_start_delay > 0,
        "DOWNLOAD_DELAY": crawl.download_delay,
        # AutoThrottle never goes below DOWNLOAD_DELAY, so neither does its first delay.
        "AUTOTHROTTLE_START_DELAY": max(crawl.autothrottle_start_delay, crawl.download_delay),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "USER_AGENT": crawl.user_agent or defaults.USER_AGENT,
        "NEWSWATCH_RETRY_AFTER_MAX": crawl.retry_after_max,
        # A source's crawl is closed after its time budget (crawler/deadline.py).
        "NEWSWATCH_SOURCE_TIMEOUT": crawl.source_timeout_minutes * 60,
        # The extraction pool (crawler/pagepool.py): None is one worker per core.
        "NEWSWATCH_WORKERS": crawl.workers,
        "NEWSWATCH_EXTRACT_TIMEOUT": crawl.extract_timeout,
        # a bool, or the allowed addresses and networks comma-separated (crawler/guard.py)
        "NEWSWATCH_ALLOW_PRIVATE_TARGETS": TargetPolicy.from_value(
            crawl.allow_private_targets
        ).as_setting(),
    }


COOKIES_MIDDLEWARE = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"


class CrawlConfigAddon:
    """``[crawl]`` -> Scrapy settings, at the add-on priority."""

    def update_settings(self, settings: BaseSettings) -> None:
        config = self.config(settings)
        crawl = config.crawl if config is not None else CrawlConfig()
        settings.update(crawl_settings_of(crawl), priority="addon")
        if not settings.getbool("COOKIES_ENABLED"):
            # Off (crawler/settings.py), it would still be imported, only to say so: its
            # module imports tldextract, requests and filelock (~45 ms for each pass). Taken
            # out of the base list: a key of DOWNLOADER_MIDDLEWARES is imported even to
            # say None (Scrapy loads each one to compare it with the base's).
            base = dict(settings["DOWNLOADER_MIDDLEWARES_BASE"] or {})
            if base.pop(COOKIES_MIDDLEWARE, None) is not None:
                settings.set("DOWNLOADER_MIDDLEWARES_BASE", base, priority="addon")
        if config is not None and config.cluster.redis_url:
            # A frontier shared by several crawler processes (crawler/redisfrontier.py).
            from crawler.redisfrontier import shared_frontier_settings

            settings.update(shared_frontier_settings(config), priority="addon")

    @classmethod
    def crawl_config(cls, settings: BaseSettings) -> CrawlConfig:
        """The config's ``[crawl]``; the defaults when there is no config file at all
        (``scrapy shell``, ``scrapy fetch``): a newswatch project is polite either way."""
        config = cls.config(settings)
        return config.crawl if config is not None else CrawlConfig()

    @staticmethod
    def config(settings: BaseSettings) -> Config | None:
        """The config; None when there is no config file at all."""
        if settings.get("NEWSWATCH_LOADED_CONFIG") is None:
            path = resolve_config_path(settings.get("NEWSWATCH_CONFIG"))
            if not path.exists():
                log.info("no config at %s: [crawl] defaults apply", path)
                return None
        return config_from_settings(settings)
