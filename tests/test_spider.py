"""The news spider's parse methods on saved responses, without a crawl or a reactor.

Each test builds the spider through a Scrapy crawler (``get_crawler``) for a config written
from the sample sites' MANIFEST, takes the requests it starts with, answers one of them with
a fake ``HtmlResponse``/``XmlResponse`` made from the site's file (as the local server would
serve it) and checks the requests or items the callback yields against the MANIFEST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import PageItem
from crawler.spiders.news import NewsSpider
from samples.localserver import SITES_DIR
from samples.manifest import load_manifest, write_config
from samples.sitefiles import PLACEHOLDER, content_type, file_for_target

MANIFEST = load_manifest(SITES_DIR)
BASES = {name: f"http://{name}.example" for name in MANIFEST}


def drain(agen: AsyncIterator[Request]) -> list[Request]:
    """The items of an async generator that never waits (the spider's ``start``)."""
    out: list[Request] = []
    while True:
        try:
            agen.__anext__().send(None)
        except StopIteration as done:
            out.append(done.value)
        except StopAsyncIteration:
            return out


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "newswatch.toml", MANIFEST, BASES)


def make_spider(config: Path, source: str) -> tuple[NewsSpider, list[Request]]:
    crawler = get_crawler(NewsSpider, {"NEWSWATCH_CONFIG": str(config)})
    spider = NewsSpider.from_crawler(crawler, source=source)
    return spider, drain(spider.start())


def respond(site: str, request: Request) -> Response:
    """The response the local server would send for ``request``, as Scrapy would type it."""
    target = request.url.removeprefix(BASES[site])
    file = file_for_target(SITES_DIR / site, target)
    assert file is not None, target
    body = file.read_bytes()
    ctype = content_type(file.name, body)
    body = body.replace(PLACEHOLDER, BASES[site].encode())
    cls: type[TextResponse] = HtmlResponse if "html" in ctype else XmlResponse
    return cls(request.url, body=body, request=request, headers={"Content-Type": ctype})


def started(requests: list[Request], via: str) -> Request:
    [request] = [r for r in requests if r.meta.get("nw_via") == via]
    return request


def paths(requests: Iterable[Any], callback: Callable[..., Any] | None = None) -> set[str]:
    """Path + query of the requests among ``requests`` (with that callback, if given)."""
    found = set()
    for r in requests:
        if isinstance(r, Request) and (callback is None or r.callback == callback):
            parts = urlsplit(r.url)
            found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def listed(site: str, where: str, section_page: int | None = None) -> set[str]:
    """The article pages of ``site`` the MANIFEST says ``where`` lists (and the pattern keeps)."""
    return {
        a.path
        for a in MANIFEST[site].articles
        if where in a.listed_in
        and a.kind != "not-article"
        and (section_page is None or a.section_page == section_page)
    }


def test_start_asks_for_the_configured_feeds_sitemaps_and_section_pages(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    source = MANIFEST["bladi"].source
    by_via = {
        via: paths(r for r in requests if r.meta.get("nw_via") == via)
        for via in ("feed", "sitemap", "section")
    }
    assert by_via == {
        "feed": set(source.feeds),
        "sitemap": set(source.sitemaps),
        "section": set(source.start_urls),
    }
    assert started(requests, "feed").callback == spider.parse_feed
    assert started(requests, "sitemap").callback == spider.parse_sitemap
    assert started(requests, "section").callback == spider.parse_section


@pytest.mark.parametrize("site", ["bladi", "bladna", "trends"])
def test_parse_feed_asks_for_each_article_the_feed_lists(config: Path, site: str) -> None:
    spider, requests = make_spider(config, site)
    feed = started(requests, "feed")
    out = list(spider.parse_feed(respond(site, feed)))
    assert all(r.callback == spider.parse_article for r in out)
    assert paths(out) == listed(site, "feed")
    for r in out:
        assert r.meta["nw_via"] == "feed" and r.meta["nw_url"] == r.url
        assert r.meta["nw_hints"]["feed_title"]
    # Tracking parameters are dropped before the request (bladna's feed carries them).
    assert not any("utm_" in r.url for r in out)


def test_parse_sitemap_asks_for_the_listed_articles_only(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    out = list(spider.parse_sitemap(respond("bladi", started(requests, "sitemap"))))
    assert paths(out, spider.parse_article) == listed("bladi", "sitemap")
    assert {r.meta["nw_via"] for r in out} == {"sitemap"}


def test_parse_sitemap_follows_an_index_to_its_sitemaps(config: Path) -> None:
    spider, requests = make_spider(config, "trends")
    index = started(requests, "sitemap")
    children = list(spider.parse_sitemap(respond("trends", index)))
    assert children and all(r.callback == spider.parse_sitemap for r in children)
    assert all(r.meta["nw_depth"] == 1 for r in children)
    articles = [r for child in children for r in spider.parse_sitemap(respond("trends", child))]
    assert paths(articles, spider.parse_article) == listed("trends", "sitemap")


def test_parse_section_asks_for_its_articles_and_the_next_page(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    first = started(requests, "section")
    out = list(spider.parse_section(respond("bladi", first)))
    pages = MANIFEST["bladi"].section_pages
    assert paths(out, spider.parse_article) == listed("bladi", "section", section_page=1)
    assert paths(out, spider.parse_section) == {pages[1]}
    [following] = [r for r in out if r.callback == spider.parse_section]
    assert following.meta["nw_depth"] == 1
    second = list(spider.parse_section(respond("bladi", following)))
    assert paths(second, spider.parse_article) == listed("bladi", "section", section_page=2)
    assert paths(second, spider.parse_section) == {pages[2]}


def test_an_article_met_twice_is_asked_for_once(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    from_feed = list(spider.parse_feed(respond("bladi", started(requests, "feed"))))
    from_sitemap = list(spider.parse_sitemap(respond("bladi", started(requests, "sitemap"))))
    assert paths(from_feed) & listed("bladi", "sitemap")
    assert not paths(from_feed) & paths(from_sitemap)
    assert paths(from_feed) | paths(from_sitemap) == listed("bladi", "feed") | listed(
        "bladi", "sitemap"
    )


def test_parse_article_yields_one_page_item_with_what_the_listing_said(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    [request, *_] = list(spider.parse_feed(respond("bladi", started(requests, "feed"))))
    article = MANIFEST["bladi"].article(paths([request]).pop())
    response = respond("bladi", request)
    [item] = list(spider.parse_article(response))
    assert isinstance(item, PageItem)
    assert (item.url, item.source, item.found_via) == (request.url, "bladi", "feed")
    assert item.body == response.body and item.status == 200
    assert item.hints["feed_title"] == article.title
    assert item.hints["lang"] == article.lang


def test_a_feed_that_is_no_feed_yields_nothing_and_is_counted_as_failed(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    feed = started(requests, "feed")
    page = HtmlResponse(feed.url, body=b"<html><body>Maintenance</body></html>", request=feed)
    assert list(spider.parse_feed(page)) == []
    assert spider.crawler.stats is not None
    counted = spider.crawler.stats.get_stats()
    assert any("fail" in key and value for key, value in counted.items()), counted


def test_a_section_page_answering_304_asks_for_nothing_new(config: Path) -> None:
    spider, requests = make_spider(config, "bladi")
    section = started(requests, "section")
    assert list(spider.parse_section(HtmlResponse(section.url, status=304, request=section))) == []
