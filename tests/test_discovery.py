"""Feed, sitemap and section-page parsing on their own, without a crawl."""

from __future__ import annotations

import gzip
import re

import pytest
from scrapy.http import HtmlResponse

from crawler.discovery import article_links, feed_links, next_page_links
from crawler.feeds import FeedError, parse_feed
from crawler.sitemaps import SitemapError, parse_sitemap

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>Un titre</title><link rel="alternate" href="https://s.example/a,1.html"/>
<published>2026-11-20T10:00:00+01:00</published></entry>
<entry><title>Sans lien</title></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://s.example/a,1.html</loc>
<news:news><news:publication><news:name>S</news:name><news:language>nl</news:language>
</news:publication><news:publication_date>2026-11-19T08:00:00Z</news:publication_date>
<news:title>Een titel</news:title></news:news></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://s.example/posts-1.xml.gz</loc><lastmod>2026-11-20</lastmod></sitemap>
</sitemapindex>"""


def test_atom_entries_with_links_and_utc_dates() -> None:
    entries = parse_feed(ATOM, "https://s.example/feed")
    assert [(e.url, e.title, e.published) for e in entries] == [
        ("https://s.example/a,1.html", "Un titre", "2026-11-20T09:00:00+00:00")
    ]


def test_a_page_that_is_no_feed_is_an_error_naming_the_url() -> None:
    with pytest.raises(FeedError, match="https://s.example/feed: not a readable feed"):
        parse_feed(b"<html><body>Maintenance</body></html>", "https://s.example/feed")


def test_google_news_sitemap_keeps_news_fields() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://s.example/news.xml")
    (entry,) = sitemap.entries
    assert sitemap.kind == "urlset"
    assert (entry.news_title, entry.news_published, entry.news_language) == (
        "Een titel",
        "2026-11-19T08:00:00Z",
        "nl",
    )


def test_sitemap_index_and_garbage() -> None:
    index = parse_sitemap(INDEX, "https://s.example/sitemap.xml")
    assert index.kind == "sitemapindex"
    assert index.entries[0].url == "https://s.example/posts-1.xml.gz"
    with pytest.raises(SitemapError, match="root element is <html>"):
        parse_sitemap(b"<html><body/></html>", "https://s.example/sitemap.xml")
    with pytest.raises(SitemapError):
        parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://s.example/x.xml.gz")


def response(body: str, url: str = "https://s.example/section.html") -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8")


def test_next_page_by_rel_label_or_number() -> None:
    page = response(
        '<a href="/section.html?page=2" rel="next">2</a>'
        '<a href="/section.html?debut=12">Suivant »</a>'
        '<a href="/other.html">Volgende artikel</a>'
        '<a href="https://elsewhere.example/next">Next</a>'
    )
    assert next_page_links(page) == [
        "https://s.example/section.html?page=2",
        "https://s.example/section.html?debut=12",
    ]
    numbered = response(
        '<a href="/s/page/1/">1</a><a href="/s/page/3/">3</a>', "https://s.example/s/page/2/"
    )
    assert next_page_links(numbered, page_number=2) == ["https://s.example/s/page/3/"]


def test_article_links_by_pattern_or_by_shape() -> None:
    page = response(
        '<a href="/maroc.html">Maroc</a><a href="/israel-maroc-accord,123.html">A</a>'
        '<a href="/a-long-wordpress-story-slug/">B</a><a href="/contact/">C</a>'
        '<link rel="alternate" type="application/rss+xml" href="/feed/">'
    )
    assert list(article_links(page, re.compile(r",\d+\.html$"))) == [
        "https://s.example/israel-maroc-accord,123.html"
    ]
    assert list(article_links(page, None)) == [
        "https://s.example/israel-maroc-accord,123.html",
        "https://s.example/a-long-wordpress-story-slug/",
    ]
    assert feed_links(page) == ["https://s.example/feed/"]
