"""Links worth following on a section page (articles, the next page, advertised feeds), and
the ledger of what each discovery page gave.

Links are extracted on feeds, sitemaps and section pages only, never on article pages:
that costs ~8 ms a page and mostly finds links we already have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from pipelines.store import Validators
from pipelines.urls import canonical_url, same_site

# Visible labels of "next page" links on French, Dutch and English news sites.
_NEXT_LABELS = re.compile(
    r"^(suivant|page suivante|pages? suivantes?|volgende|volgende pagina|oudere berichten|"
    r"next|next page|older posts|older|more|»|›|>>)$",
    re.IGNORECASE,
)
# Without an article_pattern, an article URL is a same-site link whose last segment is a
# long slug (WordPress "/some-story-title/", SPIP "/some-title,1234.html") or carries an id.
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){3,}|\d{4,}|,\d+\.html?$", re.IGNORECASE)


def article_links(response: TextResponse, pattern: re.Pattern[str] | None) -> Iterator[str]:
    """The page's links to articles: every link, judged as ``is_article_url`` judges one."""
    for link in LinkExtractor(unique=True).extract_links(response):
        if is_article_url(link.url, pattern, response.url):
            yield link.url


def next_page_links(response: TextResponse, page_number: int = 1) -> list[str]:
    """Links to the next page: ``rel="next"``, a "next" label, or the next page's number.

    ``page_number`` is the number of this page (1 for the start page): numbered pagination
    ("1 2 3 ... »") then leads on through the link whose text is ``page_number + 1``.
    """
    rel = response.css('link[rel~="next"]::attr(href), a[rel~="next"]::attr(href)').getall()
    following = str(page_number + 1)
    labelled = []
    for a in response.css("a[href]"):
        label = " ".join(" ".join(a.css("::text").getall()).split())
        named = bool(_NEXT_LABELS.match(label) or _NEXT_LABELS.match(label.strip(" »›")))
        numbered = label == following and following in a.attrib["href"]
        if named or numbered:
            labelled.append(a.attrib["href"])
    urls = [response.urljoin(h) for h in rel + labelled]
    return [
        url for url in dict.fromkeys(urls) if url != response.url and same_site(url, response.url)
    ]


def feed_links(response: TextResponse) -> list[str]:
    """Feeds a page advertises with <link rel="alternate" type="application/rss+xml">."""
    hrefs = response.xpath(
        '//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'
        '[contains(@type, "rss") or contains(@type, "atom")]/@href'
    ).getall()
    return list(dict.fromkeys(response.urljoin(h) for h in hrefs))


def is_article_url(url: str, pattern: re.Pattern[str] | None, page_url: str) -> bool:
    """By the source's article_pattern, or without one by the URL's shape."""
    return matches_pattern(url, pattern) if pattern else _looks_like_article(url, page_url)


def matches_pattern(url: str, pattern: re.Pattern[str] | None) -> bool:
    """True when the source's article_pattern (if any) matches the link.

    The pattern is tested on the canonical URL, the one newswatch fetches and stores:
    ``/slug,97215.html?utm_source=facebook`` matches ``,\\d+\\.html$`` as
    ``/slug,97215.html`` does. The raw link is tried too, so that a pattern written for
    the links as a site prints them keeps matching.
    """
    if pattern is None:
        return True
    return bool(pattern.search(canonical_url(url)) or pattern.search(url))


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def _looks_like_article(url: str, page_url: str) -> bool:
    if not same_site(url, page_url):
        return False
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return bool(segments) and bool(_SLUG.search(segments[-1]))


@dataclass
class DiscoveryRecord:
    """What one feed, sitemap or section page gave in a pass (``sources check`` prints it)."""

    url: str
    via: str  # "feed" | "sitemap" | "section" | "robots"
    status: int | None = None
    kind: str = ""  # "rss20", "atom10", "urlset", "sitemapindex", "html", "not modified" ...
    entries: int = 0  # links, feed entries or sitemap entries found
    matched: int = 0  # of those, article URLs (article_pattern, or the URL-shape heuristic)
    error: str | None = None  # an error kind: "refused", "http_404", "parse" ...
    message: str | None = None  # the same for a person, naming the URL


@dataclass
class DiscoveryLedger:
    """Which discovery pages were read, and whether everything they led to was fetched.

    A page's new ETag / Last-Modified may be kept only when every article and every further
    page it led to was fetched: otherwise the next pass would get a 304 and never see again
    the links that failed this time. A failure spoils the page that listed the link and the
    pages that led to that one (a section's earlier pages, a sitemap's index).
    """

    previous: Validators = field(default_factory=dict)  # kept by earlier passes
    parents: dict[str, str | None] = field(default_factory=dict)
    validators: Validators = field(default_factory=dict)  # read in this pass
    spoiled: set[str] = field(default_factory=set)
    records: dict[str, DiscoveryRecord] = field(default_factory=dict)
    listings: dict[str, list[str]] = field(default_factory=dict)  # URL key -> pages
    failed: set[str] = field(default_factory=set)  # URL keys that could not be fetched

    def conditions(self, url: str) -> dict[str, str]:
        """The conditional-GET headers for a discovery page read before."""
        etag, modified, _ = self.previous.get(url, ("", "", ""))
        headers = {"If-None-Match": etag, "If-Modified-Since": modified}
        return {k: v for k, v in headers.items() if v}

    def remembered_links(self, url: str) -> list[str]:
        """What a page that answered 304 led to when it was last read in full."""
        links = self.previous.get(url, ("", "", ""))[2]
        found: list[str] = json.loads(links) if links else []
        return found

    def listed(self, key: str, page: str) -> None:
        """``page`` lists the article with URL key ``key``."""
        self.listings.setdefault(key, []).append(page)
        if key in self.failed:
            self.spoil(page)

    def link_failed(self, key: str) -> None:
        """Spoil every page that listed the article, now or later in the pass."""
        self.failed.add(key)
        for page in self.listings.get(key, []):
            self.spoil(page)

    def opened(self, url: str, via: str, parent: str | None) -> None:
        self.parents.setdefault(url, parent)
        self.records.setdefault(url, DiscoveryRecord(url, via))

    def read(self, url: str, status: int, etag: str, modified: str) -> None:
        self.records[url].status = status
        if status == 200 and (etag or modified):
            self.validators[url] = (etag, modified, "")

    def links(self, url: str, links: list[str]) -> None:
        """Keep the links a page leads to with its validators (a sitemap index's sitemaps)."""
        if url in self.validators:
            etag, modified, _ = self.validators[url]
            self.validators[url] = (etag, modified, json.dumps(links))

    def spoil(self, url: str | None) -> None:
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            self.spoiled.add(url)
            url = self.parents.get(url)

    def keepable(self) -> Validators:
        return {u: v for u, v in self.validators.items() if u not in self.spoiled}
