"""The one generic spider: discovers and fetches new article pages of one configured source.

It only discovers and fetches. Which page is an article, a duplicate or relevant is decided
in ``pipelines/`` (through the item pipeline), never here. Run it as Scrapy users expect::

    NEWSWATCH_CONFIG=newswatch.toml scrapy crawl news -a source=bladi_net

``newswatch run`` starts one crawler of it per enabled source in one process. This module
reads the discovery pages (feeds, sitemaps, section pages, robots.txt); which article pages
to request and what a fetched one becomes is its base class's (``crawler/articles.py``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from crawler.articles import ArticlePages, article_window, referer_middleware
from crawler.deadline import start_budget
from crawler.discovery import (
    DiscoveryLedger,
    DiscoveryRecord,
    article_links,
    feed_links,
    is_article_url,
    matches_pattern,
    next_page_links,
)
from crawler.errors import already_logged, describe_kind, error_kind
from crawler.feeds import FeedError, read_feed
from crawler.frontier import (
    Frontier,
    StoreSnapshot,
    load_validators,
    newest_first,
    save_validators,
)
from crawler.robots import RobotsSitemaps
from crawler.sitemaps import (
    SitemapEntry,
    SitemapError,
    listed_before,
    parse_sitemap,
    sitemap_xml,
)
from crawler.sources import load_source
from crawler.stats import Stat, error_key
from pipelines.config import Config, SourceConfig
from pipelines.hooks import hooks_for
from pipelines.urls import url_key

MAX_SITEMAP_DEPTH = 3  # index -> index -> urlset is as deep as real sites go


class NewsSpider(ArticlePages):
    name = "news"
    store_config: Config  # the dataset: [store] url or path
    robots: RobotsSitemaps
    pattern: re.Pattern[str] | None  # None: no article_pattern, use the URL-shape heuristic

    def __init__(
        self,
        source: str | SourceConfig | None = None,
        check: bool = False,
        claimed: set[str] | None = None,
        snapshot: StoreSnapshot | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is None:
            raise ValueError("the news spider needs a source: scrapy crawl news -a source=NAME")
        self.source_arg = source
        # check: `newswatch sources check`, a dry run that reads every discovery page afresh,
        # fetches one article and stores nothing (the caller turns the item pipeline off).
        self.check = check in (True, "1", "true", "yes")  # `-a check=1` from scrapy crawl
        self.claimed = claimed  # URL keys queued by every source of this pass (crawler/frontier)
        self.snapshot = snapshot  # None: read at start (a bare `scrapy crawl`)
        self.article_errors: list[str] = []  # for `sources check`: why no article came
        self.ledger = DiscoveryLedger()
        self.waiting = deque()  # admitted articles not yet requested (crawler/articles.py)
        self.not_before: datetime | None = None  # older sitemap entries are not fetched

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, NewsSpider)
        spider.source, config = load_source(crawler.settings, spider.source_arg)
        spider.store_config = config
        max_pages = 1 if spider.check else config.crawl.max_pages_per_source
        spider.frontier = Frontier(
            max_pages,
            spider.claimed,
            refetch=not spider.check,
            max_sitemaps=config.crawl.max_sitemaps_per_source,
            max_entries=config.crawl.max_entries_per_source,
        )
        spider.hooks = hooks_for(spider.source)
        spider.window = article_window(crawler.settings, shared=bool(config.cluster.redis_url))
        spider.referer = referer_middleware(crawler)
        s = spider.source
        spider.robots = RobotsSitemaps([*s.feeds, *s.sitemaps, *s.start_urls])
        pattern = spider.source.article_pattern
        spider.pattern = re.compile(pattern) if pattern is not None else None
        if config.alerts.max_age_days > 0:
            spider.not_before = datetime.now(UTC) - timedelta(days=config.alerts.max_age_days)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.page_crashed, signal=signals.item_error)
        crawler.signals.connect(spider.page_crashed, signal=signals.spider_error)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        self.budget = start_budget(self.crawler, self.source.name)  # crawler/deadline.py
        if not self.check:
            self.frontier.begin(self.snapshot or StoreSnapshot.read(self.store_config))
            self.ledger.previous = load_validators(self.store_config, self.source.name)
        for url in self.source.feeds:
            yield self._discovery(url, "feed", self.parse_feed)
        for req in self._sitemaps(self.source.sitemaps):
            yield req
        for url in self.source.start_urls:
            yield self._discovery(url, "section", self.parse_section)
        if not self.settings.getbool("ROBOTSTXT_OBEY"):
            # Scrapy reads robots.txt only when it obeys it; its Sitemap: lines count anyway.
            for url in self.robots.files:
                req = self._discovery(url, "robots", self.parse_robots)
                req.meta["handle_httpstatus_all"] = True  # no robots.txt is no error
                yield req

    def closed(self, reason: str) -> None:
        """Keep the validators of the pages whose every link was fetched (see the ledger);
        a page with links left for the next pass (over a cap) is spoiled already."""
        if self.budget is not None:
            self.budget.cancel()
        if self.check or reason != "finished":
            return
        keep = self.ledger.keepable()
        if keep:
            save_validators(self.store_config, self.source.name, keep)

    # -- robots.txt (crawler/robots.py) -------------------------------------------------
    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        self.robots.parsed(robotparser, request.url)  # Scrapy read it: no second request

    def parse_robots(self, response: Response) -> None:
        # Not counted as a discovery page read (a site without robots.txt answers 404), and
        # never asked for conditionally: a 304 would hide the Sitemap: lines.
        record = self.ledger.records[response.meta["nw_disc"]]
        record.status, record.kind = response.status, "robots.txt"
        self.robots.read(response, response.meta["nw_disc"])

    def idle(self) -> None:
        # An idle crawl has no request out: one Scrapy dropped without an answer (a filter
        # of its own) is written off here, and the waiting articles go out.
        self.handed = 0
        sent = self.hand_over()
        pending = list(self._sitemaps(self.robots.take(self.ledger.parents)))
        if (not pending and not sent) or self.crawler.engine is None:
            return
        for req in pending:
            self.crawler.engine.crawl(req)
        raise DontCloseSpider

    # -- discovery ---------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Request]:
        if self._not_modified(response):
            return
        try:
            feed = read_feed(response.body, response.url)
        except FeedError as exc:
            yield from self._discovery_failed("parse", str(exc), response)
            return
        record = self._read(response, feed.version, len(feed.entries))
        for e in feed.entries:
            if not self._examine(response):
                break
            url = response.urljoin(e.url)
            record.matched += self._matches(url)
            hints = {"feed_title": e.title, "feed_published": e.published}
            req = self._article(url, "feed", hints, response, changed=e.updated)
            if req:
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        depth = response.meta.get("nw_depth", 0)
        if self._not_modified(response):
            # An index lists the same sitemaps, but they may have changed: ask each of them.
            links = self.ledger.remembered_links(response.meta["nw_disc"])
            yield from self._sitemaps(links, depth + 1, response)
            return
        try:
            sitemap = parse_sitemap(self._sitemap_xml(response), response.url)
        except SitemapError as exc:
            yield from self._discovery_failed("parse", str(exc), response)
            return
        record = self._read(response, sitemap.kind, len(sitemap.entries))
        if sitemap.kind == "sitemapindex":
            # An index often stays byte-identical while its sitemaps change (WordPress
            # writes no lastmod), so its sitemaps are kept with it and asked after a 304.
            # Newest first, and no more than may be read (crawler/frontier.py).
            children = [e.url for e in newest_first(sitemap.entries) if not self._too_old(e)]
            self.ledger.links(response.meta["nw_disc"], children[: self.frontier.max_sitemaps])
            yield from self._sitemaps(children, depth + 1, response)
            return
        for e in sitemap.entries:
            if not self._examine(response):
                break
            if not is_article_url(e.url, self.pattern, response.url):
                continue
            record.matched += 1
            if self._too_old(e):
                continue
            # lastmod is when the page last changed, not when it was published.
            hints = {"feed_title": e.news_title, "feed_published": e.news_published}
            if e.news_language:
                hints["lang"] = e.news_language.lower()[:2]
            req = self._article(e.url, "sitemap", hints, response, changed=e.lastmod)
            if req:
                yield req

    def parse_section(self, response: Response) -> Iterator[Request]:
        # A 304 means this page lists what it listed when every link on it (and on the
        # pages after it) was fetched: new articles would have changed it, so the section
        # is caught up here and its later pages are not asked for. The feeds it advertised
        # may have changed, though: they are kept with it, and asked for.
        if self._not_modified(response):
            yield from self._advertised_feeds(
                self.ledger.remembered_links(response.meta["nw_disc"])
            )
            return
        if not isinstance(response, TextResponse):
            yield from self._discovery_failed(
                "parse", f"{response.url}: not an HTML page", response
            )
            return
        depth = response.meta.get("nw_depth", 0)
        links = list(article_links(response, self.pattern))
        record = self._read(response, "html", len(response.css("a[href]")))
        record.matched = len(links)
        for url in links:
            req = self._article(url, "section", {}, response)
            if req:
                yield req
        if depth == 0 and not self.source.feeds:
            feeds = feed_links(response)
            self.ledger.links(response.meta["nw_disc"], feeds)
            yield from self._advertised_feeds(feeds)
        # A page whose links were all stored before this pass means we have caught up with
        # the section (links met earlier in this pass, e.g. in the feed, do not count).
        caught_up = bool(links) and all(self.frontier.is_stored(url_key(u)) for u in links)
        if not caught_up and depth < self.source.follow_depth:
            for url in next_page_links(response, page_number=depth + 1):
                yield self._discovery(url, "section", self.parse_section, depth + 1, response)

    def discovery_failed(self, failure: Failure) -> None:
        if self.stopping:
            return  # dropped when the crawl was closed: no failure of the source
        request = failure.request  # type: ignore[attr-defined]
        kind = error_kind(failure)
        disc = request.meta.get("nw_disc", request.url)
        via = request.meta.get("nw_via", "page")
        message = f"{request.url}: {describe_kind(kind)}"
        log = None if already_logged(failure) else f"{via} {request.url} could not be read: {kind}"
        self._fail_discovery(disc, kind, message, log)

    # -- helpers -----------------------------------------------------------------------
    def _discovery(
        self,
        url: str,
        via: str,
        callback: Any,
        depth: int = 0,
        parent: Response | None = None,
    ) -> Request:
        self._count(Stat.DISCOVERY_REQUESTED)
        self.ledger.opened(url, via, parent.meta["nw_disc"] if parent is not None else None)
        return Request(
            url,
            callback=callback,
            errback=self.discovery_failed,
            headers=self.ledger.conditions(url),
            meta={
                "nw_via": via,
                "nw_depth": depth,
                "nw_disc": url,
                "handle_httpstatus_list": [304],
            },
            dont_filter=depth == 0,
        )

    def _sitemaps(
        self, urls: Sequence[str], depth: int = 0, parent: Response | None = None
    ) -> Iterator[Request]:
        """Requests for the sitemaps not asked for yet, within the source's caps."""
        if depth > MAX_SITEMAP_DEPTH:
            return
        for url in urls:
            if url not in self.ledger.parents:
                if not self._next_sitemap():
                    return
                yield self._discovery(url, "sitemap", self.parse_sitemap, depth, parent)

    def _read(self, response: Response, kind: str = "", entries: int = 0) -> DiscoveryRecord:
        """Count a discovery page read, note its validators; returns its record."""
        self._count(Stat.DISCOVERY_OK)
        disc = response.meta["nw_disc"]
        etag, modified = (
            (response.headers.get(h) or b"").decode("latin-1") for h in (b"ETag", b"Last-Modified")
        )
        self.ledger.read(disc, response.status, etag, modified)
        record = self.ledger.records[disc]
        record.kind, record.entries = kind, entries
        return record

    def _not_modified(self, response: Response) -> bool:
        if response.status != 304:
            return False
        self._count(Stat.NOT_MODIFIED)
        self._read(response, "not modified")
        return True

    def _advertised_feeds(self, urls: list[str]) -> Iterator[Request]:
        for url in urls:
            if url not in self.ledger.parents:  # two start pages often advertise one feed
                yield self._discovery(url, "feed", self.parse_feed)

    def _discovery_failed(self, kind: str, message: str, response: Response) -> Iterator[Any]:
        self._fail_discovery(response.meta["nw_disc"], kind, message, message, response.status)
        return iter(())

    def _fail_discovery(
        self, disc: str, kind: str, message: str, log: str | None, status: int | None = None
    ) -> None:
        """A feed, sitemap or section page that could not be read or parsed: its parents'
        validators are spoiled, so the next pass reads them in full."""
        self._count(Stat.DISCOVERY_FAILED)
        self._count(error_key(kind))
        if log is not None:  # None: logged where the request was refused
            self.logger.error("%s: %s", self.source.name, log)
        record = self.ledger.records[disc]
        record.error, record.message = kind, message
        if status is not None:
            record.status = status
        self.ledger.spoil(self.ledger.parents.get(disc))

    def _matches(self, url: str) -> int:
        return int(matches_pattern(url, self.pattern))

    def _sitemap_xml(self, response: Response) -> bytes:
        return sitemap_xml(response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))

    def _too_old(self, entry: SitemapEntry) -> bool:
        """Listed with a date before ``[alerts] max_age_days``: not worth a request."""
        if self.not_before is None or not listed_before(entry, self.not_before):
            return False
        self._count(Stat.TOO_OLD)
        return True
