"""Links worth following on a section page: articles, the next page, advertised feeds.

Links are extracted on feeds, sitemaps and section pages only, never on article pages:
that costs ~8 ms a page and mostly finds links we already have.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from pipelines.urls import same_site

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
    extractor = LinkExtractor(allow=pattern.pattern if pattern else (), unique=True)
    for link in extractor.extract_links(response):
        if pattern is None and not _looks_like_article(link.url, response.url):
            continue
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


def _looks_like_article(url: str, page_url: str) -> bool:
    if not same_site(url, page_url):
        return False
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return bool(segments) and bool(_SLUG.search(segments[-1]))
