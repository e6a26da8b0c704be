"""Feed, sitemap and section-page parsing on their own, without a crawl."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawler.discovery import (
    DiscoveryLedger,
    article_links,
    feed_links,
    is_article_url,
    next_page_links,
)
from crawler.feeds import FeedError, parse_feed, read_feed
from crawler.middlewares import RetryAfterMiddleware, retry_after_seconds
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


def test_an_entrys_own_updated_date_is_kept_apart_from_its_publication() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link href="https://s.example/a"/>
<published>2026-11-01T08:00:00Z</published><updated>2026-11-05T10:30:00+01:00</updated></entry>
</feed>"""
    rss = b"""<rss version="2.0"><channel><title>t</title><item><title>b</title>
<link>https://s.example/b</link><pubDate>Sun, 01 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""
    (a,) = parse_feed(atom, "https://s.example/atom")
    (b,) = parse_feed(rss, "https://s.example/rss")
    assert (a.published, a.updated) == ("2026-11-01T08:00:00+00:00", "2026-11-05T09:30:00+00:00")
    assert (b.published, b.updated) == ("2026-11-01T08:00:00+00:00", None)


def test_a_page_that_is_no_feed_is_an_error_naming_the_url() -> None:
    with pytest.raises(FeedError, match="https://s.example/feed: not a readable feed"):
        parse_feed(b"<html><body>Maintenance</body></html>", "https://s.example/feed")


def test_a_cut_off_feed_is_an_error_but_an_empty_feed_is_quiet() -> None:
    cut = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a'
    with pytest.raises(FeedError, match="https://s.example/feed: not a readable feed: .*"):
        read_feed(cut, "https://s.example/feed")
    empty = b'<rss version="2.0"><channel><title>x</title></channel></rss>'
    assert read_feed(empty, "https://s.example/feed").entries == []


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


RSS_091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
<link>https://s.example/</link><description>d</description><language>fr</language>
<item><title>Premier</title><link>https://s.example/premier,1.html</link></item>
</channel></rss>"""
RSS_092 = b"""<?xml version="1.0"?><rss version="0.92"><channel><title>Old</title>
<link>https://s.example/</link><description>d</description>
<item><title>Deux</title><link>https://s.example/deux,2.html</link>
<pubDate>Fri, 20 Nov 2026 08:00:00 +0100</pubDate></item></channel></rss>"""
RSS_10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://s.example/"><title>RDF</title><link>https://s.example/</link>
<description>d</description></channel>
<item rdf:about="https://s.example/trois,3.html"><title>Trois</title>
<link>https://s.example/trois,3.html</link><dc:date>2026-11-20T08:00:00+01:00</dc:date></item>
</rdf:RDF>"""
RSS_20 = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>N</title>
<item><title>Quatre</title><link>https://s.example/quatre,4.html?utm_source=rss</link>
<pubDate>Fri, 20 Nov 2026 07:00:00 GMT</pubDate></item></channel></rss>"""


@pytest.mark.parametrize(
    ("body", "version", "expected"),
    [
        (RSS_091, "rss091u", ("https://s.example/premier,1.html", "Premier", None)),
        (
            RSS_092,
            "rss092",
            ("https://s.example/deux,2.html", "Deux", "2026-11-20T07:00:00+00:00"),
        ),
        (
            RSS_10,
            "rss10",
            ("https://s.example/trois,3.html", "Trois", "2026-11-20T07:00:00+00:00"),
        ),
        (
            RSS_20,
            "rss20",
            (
                "https://s.example/quatre,4.html?utm_source=rss",
                "Quatre",
                "2026-11-20T07:00:00+00:00",
            ),
        ),
        (ATOM, "atom10", ("https://s.example/a,1.html", "Un titre", "2026-11-20T09:00:00+00:00")),
    ],
)
def test_every_feed_version_gives_links_titles_and_utc_dates(
    body: bytes, version: str, expected: tuple[str, str, str | None]
) -> None:
    feed = read_feed(body, "https://s.example/feed")
    assert feed.version == version
    (entry,) = feed.entries
    assert (entry.url, entry.title, entry.published) == expected


def test_autodiscovery_finds_rss_and_atom_links_but_not_other_alternates() -> None:
    page = response(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss">'
        '<link rel="alternate" type="application/atom+xml" href="https://s.example/atom.xml">'
        '<link rel="alternate" hreflang="en" href="/en/">'
        '<link rel="alternate stylesheet" type="text/css" href="/x.css"></head></html>'
    )
    assert feed_links(page) == ["https://s.example/rss", "https://s.example/atom.xml"]


def test_sitemap_entries_without_a_pattern_are_judged_by_their_shape() -> None:
    page = "https://s.example/sitemap.xml"
    assert is_article_url("https://s.example/israel-maroc-accord,123.html", None, page)
    assert not is_article_url("https://s.example/maroc.html", None, page)
    assert not is_article_url("https://other.example/a-long-story-slug-here/", None, page)
    assert is_article_url("https://s.example/maroc.html", re.compile(r"maroc"), page)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Fri, 20 Nov 2026 08:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 20 Nov 2026 07:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_retry_after_is_not_waited_for_on_the_last_attempt() -> None:
    crawler = get_crawler(Spider, {"RETRY_TIMES": 2, "NEWSWATCH_RETRY_AFTER_MAX": 60})
    crawler.spider = Spider.from_crawler(crawler, name="s")
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    request = Request("https://s.example/a", meta={"retry_times": 2})
    response = Response(request.url, status=503, headers={"Retry-After": "30"}, request=request)
    step = middleware.process_response(request, response)
    try:
        step.send(None)
    except StopIteration as done:  # returned at once: no wait
        assert done.value is response  # given up: Scrapy does not retry it
    else:
        step.close()
        pytest.fail("waited for Retry-After on a request that is not retried")
    assert crawler.stats is not None
    assert crawler.stats.get_value("newswatch/retry_after/waited") is None


def test_ledger_keeps_validators_only_where_every_link_was_fetched() -> None:
    ledger = DiscoveryLedger()
    ledger.opened("s/1", "section", None)
    ledger.opened("s/2", "section", "s/1")
    ledger.opened("feed", "feed", None)
    for url in ("s/1", "s/2", "feed"):
        ledger.read(url, 200, f'"{url}"', "")
    ledger.opened("index", "sitemap", None)
    ledger.read("index", 200, "", "Fri, 20 Nov 2026 08:00:00 GMT")
    ledger.links("index", ["https://s.example/a.xml"])
    ledger.spoil("s/2")  # a link on page 2 failed: page 1 led there, so it is spoiled too
    assert ledger.keepable() == {
        "feed": ('"feed"', "", ""),
        "index": ("", "Fri, 20 Nov 2026 08:00:00 GMT", '["https://s.example/a.xml"]'),
    }
    ledger.opened("s/3", "section", None)
    ledger.read("s/3", 304, "", "")  # a 304 carries nothing new to keep
    assert "s/3" not in ledger.validators


def test_a_crash_on_an_article_or_a_listing_spoils_the_listings() -> None:
    from scrapy.http import Request

    from crawler.spiders.news import NewsSpider
    from pipelines.urls import url_key

    spider = NewsSpider(source="s")
    article = "https://s.example/a,1.html"
    spider.ledger.opened("https://s.example/feed", "feed", None)
    spider.ledger.opened("https://s.example/s?page=2", "section", "https://s.example/s")
    spider.ledger.listed(url_key(article), "https://s.example/feed")
    stored = HtmlResponse(url=article, request=Request(article, meta={"nw_url": article}))
    spider.page_crashed(stored)
    page = "https://s.example/s?page=2"
    spider.page_crashed(HtmlResponse(url=page, request=Request(page, meta={"nw_disc": page})))
    assert spider.ledger.spoiled == {
        "https://s.example/feed",
        "https://s.example/s?page=2",
        "https://s.example/s",
    }
    assert url_key(article) in spider.ledger.failed
    spider.ledger.opened("https://s.example/sitemap.xml", "sitemap", None)
    spider.ledger.listed(url_key(article), "https://s.example/sitemap.xml")  # listed later
    assert "https://s.example/sitemap.xml" in spider.ledger.spoiled


def test_rel_canonical_names_a_stored_article_of_the_same_site_only(tmp_path: Path) -> None:
    from pipelines.clock import utcnow
    from pipelines.store import open_store
    from pipelines.urls import url_key

    store = open_store(tmp_path / "nw.db")
    stored = "https://s.example/a,1.html"
    row = {"url": stored, "url_key": url_key(stored), "source": "s", "text": "t"}
    store.insert_article(row | {"fetched_at": utcnow()})
    copy = "https://s.example/amp/copy-of-a,1.html"
    assert store.canonical_target(copy, stored + "?utm_source=x") == stored
    assert store.canonical_target(stored, stored) is None  # the page itself
    assert store.canonical_target(copy, "https://s.example/other,2.html") is None  # not stored
    assert store.canonical_target("https://other.example/x", stored) is None  # another site
    assert store.canonical_target(copy, None) is None
