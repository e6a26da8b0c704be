"""The one generic spider: discovers and fetches new article pages of one configured source.

It only discovers and fetches. Which page is an article, a duplicate or relevant is decided
in ``pipelines/`` (through the item pipeline), never here. Run it as Scrapy users expect::

    NEWSWATCH_CONFIG=newswatch.toml scrapy crawl news -a source=bladi_net

``newswatch run`` starts one crawler of it per enabled source in one process.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import scrapy
import sqlite_utils
from protego import Protego
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler.discovery import (
    DiscoveryLedger,
    DiscoveryRecord,
    article_links,
    canonical_link,
    feed_links,
    is_article_url,
    next_page_links,
    robots_url,
)
from crawler.errors import describe_kind, error_kind
from crawler.feeds import FeedError, read_feed
from crawler.items import PageItem
from crawler.sitemaps import SitemapEntry, SitemapError, listed_before, parse_sitemap
from crawler.sources import load_source
from pipelines.config import SourceConfig
from pipelines.store import (
    article_check_times,
    known_url_keys,
    load_validators,
    open_db,
    save_validators,
)
from pipelines.urls import canonical_url, same_site, url_key

MAX_SITEMAP_DEPTH = 3  # index -> index -> urlset is as deep as real sites go
# Stored articles fetched again in one pass because their feed or sitemap says they changed;
# bounded because some sites stamp every sitemap entry with the time of the request.
MAX_REFETCH = 20
# Errors after which a link may still be listed next time: they spoil the page's validators.
# A 404/410 is remembered (pipelines.store.GONE_*) and robots.txt will say no again.
_SETTLED = ("http_404", "http_410", "robots")


@dataclass(frozen=True)
class StoreSnapshot:
    """What the dataset holds when a pass starts: read once for all of its sources."""

    stored: frozenset[str]  # URL keys not to fetch (articles, non-articles, gone pages)
    checked: dict[str, datetime]  # stored article -> when its page was last fetched

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> StoreSnapshot:
        return cls(
            frozenset(known_url_keys(db)),
            {k: _when(v) for k, v in article_check_times(db).items()},
        )


class NewsSpider(scrapy.Spider):
    name = "news"
    source: SourceConfig
    store_path: Path
    max_pages: int
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
        self.stored: frozenset[str] = frozenset()  # URL keys the dataset held at start
        self.known: set[str] = set()  # ... plus the ones queued during this pass
        self.queued = 0
        # URL keys queued in this pass by any source crawled in this process: two sources
        # that list one article (a shared feed, overlapping sections) fetch it once.
        self.claimed = claimed if claimed is not None else set()
        self.snapshot = snapshot  # None: read at start (a bare `scrapy crawl`)
        self.article_errors: list[str] = []  # for `sources check`: why no article came
        self.ledger = DiscoveryLedger()
        self.robots_sitemaps: list[str] = []  # Sitemap: lines, read once the rest is done
        self.not_before: datetime | None = None  # older sitemap entries are not fetched
        self.checked: dict[str, datetime] = {}  # stored article -> when its page was fetched
        self.refetched = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, NewsSpider)
        spider.source, config = load_source(crawler.settings, spider.source_arg)
        spider.store_path = config.store_path
        spider.max_pages = config.crawl.max_pages_per_source
        pattern = spider.source.article_pattern
        spider.pattern = re.compile(pattern) if pattern is not None else None
        if spider.check:
            spider.max_pages = 1
        if config.alerts.max_age_days > 0:
            spider.not_before = datetime.now(UTC) - timedelta(days=config.alerts.max_age_days)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.page_crashed, signal=signals.item_error)
        crawler.signals.connect(spider.page_crashed, signal=signals.spider_error)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        if not self.check:
            db = open_db(self.store_path)
            try:
                snapshot = self.snapshot or StoreSnapshot.load(db)
                self.ledger.previous = load_validators(db, self.source.name)
            finally:
                db.close()
            self.stored, self.checked = snapshot.stored, snapshot.checked
        self.known = set(self.stored)
        for url in self.source.feeds:
            yield self._discovery(url, "feed", self.parse_feed)
        for url in self.source.sitemaps:
            yield self._discovery(url, "sitemap", self.parse_sitemap)
        for url in self.source.start_urls:
            yield self._discovery(url, "section", self.parse_section)
        if not self.settings.getbool("ROBOTSTXT_OBEY"):
            # Scrapy reads robots.txt only when it obeys it; its Sitemap: lines count anyway.
            for host in sorted(self._robots_urls()):
                req = self._discovery(host, "robots", self.parse_robots)
                req.meta["handle_httpstatus_all"] = True  # no robots.txt is no error
                yield req

    def closed(self, reason: str) -> None:
        """Keep the validators of the pages whose every link was fetched (see the ledger)."""
        over = self.crawler.stats.get_value("newswatch/articles/over_limit")
        if self.check or reason != "finished" or over:
            return
        keep = self.ledger.keepable()
        if keep:
            db = open_db(self.store_path)
            try:
                save_validators(db, self.source.name, keep)
            finally:
                db.close()

    # -- robots.txt --------------------------------------------------------------------
    # The sitemaps robots.txt names are read last, when the configured feeds, sitemaps and
    # section pages (and what they led to) are done: they fill gaps, and an article those
    # found keeps the richer hints (a feed's date) and the way it was found.

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        """Scrapy's robots middleware read robots.txt: keep its Sitemap: lines, no refetch."""
        rules = getattr(robotparser, "rp", None)
        robots = robots_url(request.url)
        if isinstance(rules, Protego) and robots in self._robots_urls():
            self._keep_robots_sitemaps(rules, robots)

    def parse_robots(self, response: Response) -> None:
        # Not counted as a discovery page read (a site without robots.txt answers 404), and
        # never asked for conditionally: a 304 would hide the Sitemap: lines.
        record = self.ledger.records[response.meta["nw_disc"]]
        record.status, record.kind = response.status, "robots.txt"
        if response.status == 200 and isinstance(response, TextResponse):
            self._keep_robots_sitemaps(Protego.parse(response.text), response.meta["nw_disc"])

    def idle(self) -> None:
        pending = [u for u in self.robots_sitemaps if u not in self.ledger.parents]
        self.robots_sitemaps = []
        if not pending or self.crawler.engine is None:
            return
        for url in pending:
            self.crawler.engine.crawl(self._discovery(url, "sitemap", self.parse_sitemap))
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
            for url in self.ledger.remembered_links(response.meta["nw_disc"]):
                if url not in self.ledger.parents and depth < MAX_SITEMAP_DEPTH:
                    yield self._discovery(url, "sitemap", self.parse_sitemap, depth + 1, response)
            return
        try:
            sitemap = parse_sitemap(self._sitemap_body(response), response.url)
        except SitemapError as exc:
            yield from self._discovery_failed("parse", str(exc), response)
            return
        record = self._read(response, sitemap.kind, len(sitemap.entries))
        if sitemap.kind == "sitemapindex":
            # An index often stays byte-identical while its sitemaps change (WordPress
            # writes no lastmod), so its sitemaps are kept with it and asked after a 304.
            children = [e.url for e in sitemap.entries if not self._too_old(e)]
            self.ledger.links(response.meta["nw_disc"], children)
            for url in children:
                if url not in self.ledger.parents and depth < MAX_SITEMAP_DEPTH:
                    yield self._discovery(url, "sitemap", self.parse_sitemap, depth + 1, response)
            return
        for e in sitemap.entries:
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
        caught_up = bool(links) and all(url_key(u) in self.stored for u in links)
        if not caught_up and depth < self.source.follow_depth:
            for url in next_page_links(response, page_number=depth + 1):
                yield self._discovery(url, "section", self.parse_section, depth + 1, response)

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
            hints={
                **response.meta["nw_hints"],
                "lang": response.meta["nw_hints"].get("lang") or self.source.lang,
                "canonical_url": canonical_link(response),
            },
        )

    def article_failed(self, failure: Failure) -> Iterator[PageItem]:
        kind = error_kind(failure)
        self.crawler.stats.inc_value(f"newswatch/errors/{kind}")
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("%s: article not fetched: %s", request.url, kind)
        self.article_errors.append(f"{request.url}: {describe_kind(kind)}")
        if kind not in _SETTLED:
            self.ledger.link_failed(url_key(request.meta["nw_url"]))
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

    def page_crashed(self, response: Response | None) -> None:
        """An exception while parsing a listing or storing an article: as if it failed."""
        if response is None:
            return
        if "nw_url" in response.meta:
            self.ledger.link_failed(url_key(response.meta["nw_url"]))
        elif "nw_disc" in response.meta:
            self.ledger.spoil(response.meta["nw_disc"])

    def discovery_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        kind = error_kind(failure)
        disc = request.meta.get("nw_disc", request.url)
        record = self.ledger.records[disc]
        record.error, record.message = kind, f"{request.url}: {describe_kind(kind)}"
        self.ledger.spoil(self.ledger.parents.get(disc))
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

    def _discovery(
        self,
        url: str,
        via: str,
        callback: Any,
        depth: int = 0,
        parent: Response | None = None,
    ) -> Request:
        self.crawler.stats.inc_value("newswatch/discovery/requested")
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

    def _read(self, response: Response, kind: str = "", entries: int = 0) -> DiscoveryRecord:
        """Count a discovery page read, note its validators; returns its record."""
        self.crawler.stats.inc_value("newswatch/discovery/ok")
        disc = response.meta["nw_disc"]
        header = response.headers.get
        self.ledger.read(
            disc,
            response.status,
            (header(b"ETag") or b"").decode("latin-1"),
            (header(b"Last-Modified") or b"").decode("latin-1"),
        )
        record = self.ledger.records[disc]
        record.kind, record.entries = kind, entries
        return record

    def _not_modified(self, response: Response) -> bool:
        if response.status != 304:
            return False
        self.crawler.stats.inc_value("newswatch/discovery/not_modified")
        self._read(response, "not modified")
        return True

    def _advertised_feeds(self, urls: list[str]) -> Iterator[Request]:
        for url in urls:
            if url not in self.ledger.parents:  # two start pages often advertise one feed
                yield self._discovery(url, "feed", self.parse_feed)

    def _discovery_failed(self, kind: str, message: str, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("newswatch/discovery/failed")
        self.crawler.stats.inc_value(f"newswatch/errors/{kind}")
        self.logger.error("%s: %s", self.source.name, message)
        disc = response.meta["nw_disc"]
        record = self.ledger.records[disc]
        record.status, record.error, record.message = response.status, kind, message
        self.ledger.spoil(self.ledger.parents.get(disc))
        return iter(())

    def _keep_robots_sitemaps(self, rules: Protego, robots_url: str) -> None:
        self.robots_sitemaps += [u for u in rules.sitemaps if same_site(u, robots_url)]

    def _robots_urls(self) -> set[str]:
        return {robots_url(u) for u in self._configured_urls()}

    def _configured_urls(self) -> list[str]:
        return [*self.source.feeds, *self.source.sitemaps, *self.source.start_urls]

    def _matches(self, url: str) -> int:
        return int(self.pattern is None or bool(self.pattern.search(url)))

    def _changed_since_fetched(self, key: str, changed: str | None) -> bool:
        fetched = self.checked.get(key)
        if changed is None or fetched is None or key in self.claimed:
            return False
        if self.refetched >= MAX_REFETCH or self.check:
            return False
        try:
            return _when(changed) > fetched
        except ValueError:
            return False

    def _too_old(self, entry: SitemapEntry) -> bool:
        """Listed with a date before ``[alerts] max_age_days``: not worth a request."""
        if self.not_before is None or not listed_before(entry, self.not_before):
            return False
        self.crawler.stats.inc_value("newswatch/articles/too_old")
        return True

    def _article(
        self,
        url: str,
        via: str,
        hints: dict[str, Any],
        listed_on: Response | None = None,
        changed: str | None = None,
    ) -> Request | None:
        """A request for a page not yet known, or None: identity is decided before fetching.

        A stored article is fetched again only when its feed entry's ``<updated>`` or its
        sitemap ``lastmod`` says it changed after we last fetched it (at most
        ``MAX_REFETCH`` a pass): the pipeline then updates it in place, without a second
        alert.
        """
        if not url.startswith(("http://", "https://")):
            return None
        key = url_key(url)
        if self._changed_since_fetched(key, changed):
            self.refetched += 1
            self.claimed.add(key)
            self.crawler.stats.inc_value("newswatch/articles/refetched")
            clean = canonical_url(url)
            return Request(
                clean,
                callback=self.parse_article,
                errback=self.article_failed,
                dont_filter=True,
                meta={"nw_url": clean, "nw_via": via, "nw_hints": hints, "nw_refetch": True},
            )
        if listed_on is not None and key not in self.stored:
            self.ledger.listed(key, listed_on.meta["nw_disc"])
        if key in self.known or key in self.claimed:  # stored, or queued in this pass
            if key in self.stored:
                self.crawler.stats.inc_value("newswatch/articles/known")
            return None
        if self.queued >= self.max_pages:
            over = self.crawler.stats.get_value("newswatch/articles/over_limit")
            if not over and not self.check:
                self.logger.warning(
                    "%s: more than %d new article URLs in one pass; the rest waits for the"
                    " next pass ([crawl] max_pages_per_source)",
                    self.source.name,
                    self.max_pages,
                )
            self.crawler.stats.inc_value("newswatch/articles/over_limit")
            return None
        self.known.add(key)
        self.claimed.add(key)
        self.queued += 1
        clean = canonical_url(url)
        return Request(
            clean,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={
                "nw_url": clean,
                "nw_via": via,
                "nw_hints": hints,
            },
        )


def _when(stamp: str) -> datetime:
    """An ISO 8601 date or datetime as an aware datetime (UTC when it names no zone)."""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
