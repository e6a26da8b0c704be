"""The one generic spider: discovers and fetches new article pages of one configured source.

It only discovers and fetches. Which page is an article, a duplicate or relevant is decided
in ``pipelines/`` (through the item pipeline), never here. Run it as Scrapy users expect::

    NEWSWATCH_CONFIG=newswatch.toml scrapy crawl news -a source=bladi_net

``newswatch run`` starts one crawler of it per enabled source in one process.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler.discovery import article_links, feed_links, next_page_links
from crawler.errors import error_kind
from crawler.feeds import FeedError, parse_feed
from crawler.items import PageItem
from crawler.sitemaps import SitemapError, parse_sitemap
from crawler.sources import load_source
from pipelines.config import SourceConfig
from pipelines.store import known_url_keys, open_db
from pipelines.urls import canonical_url, url_key

MAX_SITEMAP_DEPTH = 3  # index -> index -> urlset is as deep as real sites go


class NewsSpider(scrapy.Spider):
    name = "news"
    source: SourceConfig
    store_path: Path
    max_pages: int
    pattern: re.Pattern[str] | None  # None: no article_pattern, use the URL-shape heuristic

    def __init__(self, source: str | SourceConfig | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if source is None:
            raise ValueError("the news spider needs a source: scrapy crawl news -a source=NAME")
        self.source_arg = source
        self.stored: frozenset[str] = frozenset()  # URL keys the dataset held at start
        self.known: set[str] = set()  # ... plus the ones queued during this pass
        self.queued = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, NewsSpider)
        spider.source, config = load_source(crawler.settings, spider.source_arg)
        spider.store_path = config.store_path
        spider.max_pages = config.crawl.max_pages_per_source
        pattern = spider.source.article_pattern
        spider.pattern = re.compile(pattern) if pattern is not None else None
        return spider

    async def start(self) -> AsyncIterator[Request]:
        db = open_db(self.store_path)
        try:
            self.stored = frozenset(known_url_keys(db))
        finally:
            db.close()
        self.known = set(self.stored)
        for url in self.source.feeds:
            yield self._discovery(url, "feed", self.parse_feed)
        for url in self.source.sitemaps:
            yield self._discovery(url, "sitemap", self.parse_sitemap)
        for url in self.source.start_urls:
            yield self._discovery(url, "section", self.parse_section)

    # -- discovery ---------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Request]:
        try:
            entries = parse_feed(response.body, response.url)
        except FeedError as exc:
            yield from self._discovery_failed("parse", str(exc))
            return
        self.crawler.stats.inc_value("newswatch/discovery/ok")
        for e in entries:
            req = self._article(
                response.urljoin(e.url),
                "feed",
                {"feed_title": e.title, "feed_published": e.published},
            )
            if req:
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            sitemap = parse_sitemap(self._sitemap_body(response), response.url)
        except SitemapError as exc:
            yield from self._discovery_failed("parse", str(exc))
            return
        self.crawler.stats.inc_value("newswatch/discovery/ok")
        depth = response.meta.get("nw_depth", 0)
        for e in sitemap.entries:
            if sitemap.kind == "sitemapindex":
                if depth < MAX_SITEMAP_DEPTH:
                    yield self._discovery(e.url, "sitemap", self.parse_sitemap, depth + 1)
                continue
            if self.pattern is not None and not self.pattern.search(e.url):
                continue
            req = self._article(
                e.url,
                "sitemap",
                # lastmod is when the page last changed, not when it was published.
                {"feed_title": e.news_title, "feed_published": e.news_published},
            )
            if req:
                yield req

    def parse_section(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            yield from self._discovery_failed("parse", f"{response.url}: not an HTML page")
            return
        self.crawler.stats.inc_value("newswatch/discovery/ok")
        depth = response.meta.get("nw_depth", 0)
        links = list(article_links(response, self.pattern))
        for url in links:
            req = self._article(url, "section", {})
            if req:
                yield req
        if depth == 0 and not self.source.feeds:
            for url in feed_links(response):
                yield self._discovery(url, "feed", self.parse_feed)
        # A page whose links were all stored before this pass means we have caught up with
        # the section (links met earlier in this pass, e.g. in the feed, do not count).
        caught_up = bool(links) and all(url_key(u) in self.stored for u in links)
        if not caught_up and depth < self.source.follow_depth:
            for url in next_page_links(response, page_number=depth + 1):
                yield self._discovery(url, "section", self.parse_section, depth + 1)

    # -- articles ----------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[PageItem]:
        self.crawler.stats.inc_value("newswatch/articles/fetched")
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or ("html" not in ctype and ctype):
            self.crawler.stats.inc_value("newswatch/errors/not_html")
            self.logger.warning(
                "%s: not an HTML page (%s), skipped", response.url, ctype or "no Content-Type"
            )
            return
        yield PageItem(
            url=response.meta["nw_url"],
            final_url=response.url,
            body=response.body,
            source=self.source.name,
            found_via=response.meta["nw_via"],
            encoding=response.encoding,
            status=response.status,
            hints={**response.meta["nw_hints"], "lang": self.source.lang},
        )

    def article_failed(self, failure: Failure) -> Iterator[PageItem]:
        kind = error_kind(failure)
        self.crawler.stats.inc_value(f"newswatch/errors/{kind}")
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("%s: article not fetched: %s", request.url, kind)
        if kind in ("http_404", "http_410"):
            # Remembered (see pipelines.store.GONE_*), so the next pass does not ask again.
            yield PageItem(
                url=request.meta["nw_url"],
                final_url=request.url,
                body=b"",
                source=self.source.name,
                found_via=request.meta["nw_via"],
                status=int(kind[5:]),
            )

    def discovery_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        kind = error_kind(failure)
        self.crawler.stats.inc_value("newswatch/discovery/failed")
        self.crawler.stats.inc_value(f"newswatch/errors/{kind}")
        self.logger.error(
            "%s: %s %s could not be read: %s",
            self.source.name,
            request.meta.get("nw_via", "page"),
            request.url,
            kind,
        )

    # -- helpers -----------------------------------------------------------------------
    def _sitemap_body(self, response: Response) -> bytes:
        """The XML of a sitemap, gunzipped when it is served as a .gz file."""
        if response.body[:2] != b"\x1f\x8b":
            return response.body
        try:
            return gunzip(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        except Exception as exc:  # corrupt gzip, or larger than DOWNLOAD_MAXSIZE unpacked
            raise SitemapError(f"{response.url}: not a sitemap: bad gzip data ({exc})") from None

    def _discovery(self, url: str, via: str, callback: Any, depth: int = 0) -> Request:
        self.crawler.stats.inc_value("newswatch/discovery/requested")
        return Request(
            url,
            callback=callback,
            errback=self.discovery_failed,
            meta={"nw_via": via, "nw_depth": depth},
            dont_filter=depth == 0,
        )

    def _discovery_failed(self, kind: str, message: str) -> Iterator[Any]:
        self.crawler.stats.inc_value("newswatch/discovery/failed")
        self.crawler.stats.inc_value(f"newswatch/errors/{kind}")
        self.logger.error("%s: %s", self.source.name, message)
        return iter(())

    def _article(self, url: str, via: str, hints: dict[str, Any]) -> Request | None:
        """A request for a page not yet known, or None: identity is decided before fetching."""
        if not url.startswith(("http://", "https://")):
            return None
        key = url_key(url)
        if key in self.known:  # stored before this pass, or already queued in it
            if key in self.stored:
                self.crawler.stats.inc_value("newswatch/articles/known")
            return None
        if self.queued >= self.max_pages:
            if not self.crawler.stats.get_value("newswatch/articles/over_limit"):
                self.logger.warning(
                    "%s: more than %d new article URLs in one pass; the rest waits for the"
                    " next pass ([crawl] max_pages_per_source)",
                    self.source.name,
                    self.max_pages,
                )
            self.crawler.stats.inc_value("newswatch/articles/over_limit")
            return None
        self.known.add(key)
        self.queued += 1
        clean = canonical_url(url)
        return Request(
            clean,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={"nw_url": clean, "nw_via": via, "nw_hints": hints},
        )
