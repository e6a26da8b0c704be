"""The article half of the news spider: which article pages to request, and what a
fetched or failed one becomes.

Identity is decided before fetching (``crawler/frontier.py``), through the source's own
discovery hook when it has one (``pipelines/hooks.py``); a fetched page goes to the item
pipeline unjudged. The discovery half (feeds, sitemaps, section pages, robots.txt) is
``crawler/spiders/news.py``.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.referer import RefererMiddleware
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.discovery import DiscoveryLedger
from crawler.errors import already_logged, describe_kind, error_kind
from crawler.frontier import Admission, Frontier
from crawler.items import PageItem, article_item, gone_item
from crawler.stats import Stat, error_key
from pipelines.config import SourceConfig
from pipelines.hooks import SourceHooks
from pipelines.urls import canonical_url, url_key

# Errors after which a link may still be listed next time: they spoil the page's validators.
# A 404/410 is remembered (see pipelines/store/urls.py) and robots.txt will say no again.
_SETTLED = ("http_404", "http_410", "robots", "redirect_self")
# Links longer than this are no article's address (Scrapy itself drops URLs past its
# URLLENGTH_LIMIT of 2083 characters without a word).
MAX_URL_CHARS = 2000
# Article requests a crawl has out at once (in Scrapy's scheduler or downloader), per
# request Scrapy may send at once (CONCURRENT_REQUESTS). The other articles the listings
# admitted wait in the spider (`Waiting`), and go out as those are answered:
# Scrapy's scheduler would otherwise hold a Request object for every article a sitemap
# lists (~1 KB each with its meta and headers), all of them from the sitemap's reading
# on: ~10,000 at once in a first pass over a large sitemap.
ARTICLE_WINDOW_PER_REQUEST = 3
REFERER_MIDDLEWARE = "scrapy.spidermiddlewares.referer.RefererMiddleware"


def article_window(settings: BaseSettings, *, shared: bool) -> int:
    """Article requests a crawl has out at once. Unbounded on a shared frontier
    (``[cluster] redis_url``): there every admitted article goes to Redis at once, where
    it waits outside this process, another process may take it, and a crashed process's
    requests return to the queue."""
    if shared:
        return sys.maxsize
    return ARTICLE_WINDOW_PER_REQUEST * settings.getint("CONCURRENT_REQUESTS")


class Waiting(NamedTuple):
    """An admitted article not yet requested: what its request is made of."""

    url: str
    meta: dict[str, Any]
    dont_filter: bool
    referer: str | None


def referer_middleware(crawler: Crawler) -> RefererMiddleware | None:
    """Scrapy's RefererMiddleware as the crawl has it, or None when it is off."""
    middlewares = crawler.settings.getwithbase("SPIDER_MIDDLEWARES")
    if REFERER_MIDDLEWARE in middlewares and middlewares[REFERER_MIDDLEWARE] is None:
        return None  # turned off
    try:
        return RefererMiddleware.from_crawler(crawler)
    except NotConfigured:  # REFERER_ENABLED = False
        return None


class ArticlePages(scrapy.Spider):
    """Base of the news spider; set up by its ``from_crawler``."""

    source: SourceConfig
    frontier: Frontier
    hooks: SourceHooks
    ledger: DiscoveryLedger
    check: bool  # a dry run (`sources check`): one article, no refetch
    article_errors: list[str]  # for `sources check`: why no article came
    budget: Deferred[object] | None = None  # the source's time budget (crawler/deadline.py)
    stopping: str | None = None  # why the crawl is being closed early, once it is
    window: int  # article requests out at once (`article_window`)
    handed: int = 0  # article requests out and not yet answered
    waiting: deque[Waiting]  # admitted, not yet out
    referer: RefererMiddleware | None  # Scrapy's, for the Referer of a waiting article

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        self._answered()
        self._count(Stat.FETCHED)
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or ("html" not in ctype and ctype):
            self._count(error_key("not_html"))
            self.logger.warning(
                "%s: not an HTML page (%s), skipped", response.url, ctype or "no Content-Type"
            )
            return
        yield article_item(response, self.source.name, self.source.lang)

    def article_failed(self, failure: Failure) -> Iterator[PageItem]:
        self._answered()
        if self.stopping:
            return  # dropped when the crawl was closed: it waits for the next pass
        kind = error_kind(failure)
        self._count(error_key(kind))
        request = failure.request  # type: ignore[attr-defined]
        if not already_logged(failure):
            self.logger.warning("%s: article not fetched: %s", request.url, describe_kind(kind))
        self.article_errors.append(f"{request.url}: {describe_kind(kind)}")
        if kind not in _SETTLED:
            self.ledger.link_failed(url_key(request.meta["nw_url"]))
        if kind in ("http_404", "http_410"):
            yield gone_item(request, self.source.name, int(kind[5:]))
        elif kind == "redirect_self":  # remembered as gone: asked again only after a while
            yield gone_item(request, self.source.name, getattr(failure.value, "status", 301))

    def page_crashed(self, response: Response | None) -> None:
        """An exception while parsing a listing or storing an article: as if it failed."""
        if response is None:
            return
        if "nw_url" in response.meta:
            self.ledger.link_failed(url_key(response.meta["nw_url"]))
        elif "nw_disc" in response.meta:
            self.ledger.spoil(response.meta["nw_disc"])

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
        listing = listed_on.url if listed_on is not None else None
        found = self.hooks.article_url(url, listing)  # a source's own rule, if it has one
        if found is None or not found.startswith(("http://", "https://")):
            return None
        if len(found) > MAX_URL_CHARS:
            self._url_too_long(len(found))
            return None
        url, key = found, url_key(found)
        if self.frontier.refetch(key, changed):
            self._count(Stat.REFETCHED)
            clean = canonical_url(url)
            meta = {"nw_url": clean, "nw_via": via, "nw_hints": hints, "nw_refetch": True}
            return self._article_request(clean, meta, listed_on, dont_filter=True)
        admission = self.frontier.admit(key)
        # Only links queued in this pass are remembered with their listing (a failure then
        # spoils it): what the dataset holds needs no note, and what waits for the next
        # pass spoils its listing at once, so the ledger grows with the page cap, no more.
        if listed_on is not None and admission in (Admission.NEW, Admission.SEEN):
            self.ledger.listed(key, listed_on.meta["nw_disc"])
        if admission is Admission.STORED:
            self._count(Stat.KNOWN)
        elif admission is Admission.OVER_LIMIT:
            self._over_limit(listed_on)
        elif admission is Admission.NEW:
            clean = canonical_url(url)
            meta = {"nw_url": clean, "nw_via": via, "nw_hints": hints}
            return self._article_request(clean, meta, listed_on)
        return None

    def _url_too_long(self, length: int) -> None:
        """A link past ``MAX_URL_CHARS``: counted as ``url_too_long``, said once a pass."""
        self._count(error_key("url_too_long"))
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value(error_key("url_too_long")) == 1:
            self.logger.warning(
                "%s: a link of %d characters skipped (longer than %d); such links are"
                " counted as url_too_long in the pass summary",
                self.source.name,
                length,
                MAX_URL_CHARS,
            )

    def _over_limit(self, listed_on: Response | None) -> None:
        """A new article past ``max_pages_per_source``: it waits for the next pass, so the
        page that listed it keeps no validator (the next pass reads it in full)."""
        if self.frontier.first_cap("pages") and not self.check:
            self.logger.warning(
                "%s: more than %d new article URLs in one pass; the rest waits for the"
                " next pass ([crawl] max_pages_per_source)",
                self.source.name,
                self.frontier.max_pages,
            )
        self._count(Stat.OVER_LIMIT)
        if listed_on is not None:
            self.ledger.spoil(listed_on.meta["nw_disc"])

    def _examine(self, listing: Response) -> bool:
        """Whether to look at one more entry of a feed or sitemap: not once the page cap is
        reached (the rest of the listing waits for the next pass), nor past
        ``max_entries_per_source``; the listing is then spoiled, to be read in full again."""
        if self.frontier.full and not self.check:
            self.frontier.over_limit += 1
            self._over_limit(listing)
            return False
        if self.frontier.take_entry():
            return True
        if self.frontier.first_cap("entries"):
            self.logger.warning(
                "%s: %d feed and sitemap entries looked at in one pass; the rest waits for"
                " the next pass ([crawl] max_entries_per_source)",
                self.source.name,
                self.frontier.max_entries,
            )
        self.ledger.spoil(listing.meta["nw_disc"])
        return False

    def _next_sitemap(self) -> bool:
        """Whether one more sitemap may be asked for: not once the page cap is reached, nor
        past ``max_sitemaps_per_source`` (the newest are asked for first)."""
        if self.frontier.full and not self.check or "entries" in self.frontier.capped:
            return False
        if self.frontier.take_sitemap():
            return True
        if self.frontier.first_cap("sitemaps"):
            self.logger.warning(
                "%s: %d sitemaps read in one pass; the older ones are not read"
                " ([crawl] max_sitemaps_per_source)",
                self.source.name,
                self.frontier.max_sitemaps,
            )
        return False

    def _article_request(
        self,
        url: str,
        meta: dict[str, Any],
        listed_on: Response | None,
        *,
        dont_filter: bool = False,
    ) -> Request | None:
        """The request for an admitted article, or None while `window` article requests
        are out: it then waits, and goes out as one of those is answered."""
        if self.handed >= self.window:
            self.waiting.append(Waiting(url, meta, dont_filter, self._referer(url, listed_on)))
            return None
        self.handed += 1
        return self._request(url, meta, dont_filter)

    def _referer(self, url: str, listed_on: Response | None) -> str | None:
        """The Referer that Scrapy's RefererMiddleware gives a request for ``url`` yielded
        from ``listed_on``: a waiting article goes out later, from the engine, past the
        spider middlewares, and is to reach the site as the others do."""
        if listed_on is None or self.referer is None:
            return None
        return self.referer.policy(listed_on, Request(url)).referrer(listed_on.url, url)

    def request_dropped(self, request: Request) -> None:
        """Scrapy's scheduler refused a request (its duplicate filter: an article that
        redirects to a page already fetched in this pass): it gets no answer, so it is
        answered here."""
        if request.callback == self.parse_article:
            self._answered()

    def _answered(self) -> None:
        """An article request was answered (or failed): the next waiting ones go out."""
        self.handed = max(0, self.handed - 1)
        self.hand_over()

    def hand_over(self) -> int:
        """Send waiting articles while fewer than `window` are out (none once the crawl is
        being stopped: they wait for the next pass); how many were sent."""
        sent = 0
        while self.waiting and self.handed < self.window and not self.stopping:
            article = self.waiting.popleft()
            self.handed += 1
            request = self._request(article.url, article.meta, article.dont_filter)
            if article.referer:
                request.headers["Referer"] = article.referer
            engine = self.crawler.engine  # there while the crawl runs, and it does here
            assert engine is not None
            engine.crawl(request)
            sent += 1
        return sent

    def _request(self, url: str, meta: dict[str, Any], dont_filter: bool) -> Request:
        return Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=dont_filter,
            meta=meta,
        )

    def _count(self, key: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, n)
