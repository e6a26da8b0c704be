"""A pass is bounded whatever the sites do: caps on sitemaps and entries, and deadlines.

A sitemap index of 10,000 sitemaps of thousands of URLs each (generated on the fly by a
server on 127.0.0.1, no files) costs at most ``[crawl] max_sitemaps_per_source`` sitemap
requests and ``max_pages_per_source`` article requests, and the next pass gets further. A
tarpit site is closed after its time budget (``source_timeout_minutes``) or at the pass
deadline (``pass_timeout_minutes``) while a healthy source beside it is stored in full.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import run_newswatch
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.articles import REFERER_MIDDLEWARE, article_window, referer_middleware
from crawler.cli.passtable import summary_line
from crawler.cli.progress import source_line
from crawler.frontier import newest_first
from crawler.passes import PassReport
from crawler.sitemaps import SitemapEntry
from crawler.spiders.news import NewsSpider
from crawler.stats import SourceReport
from samples.localserver import serve_sites
from samples.sitegen import article_html, write_site

CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
maildir = "maildir"

[crawl]
download_delay = 0
autothrottle_start_delay = 0
concurrent_per_domain = 1
allow_private_targets = ["127.0.0.1"]
{crawl}
"""
SOURCE = """
[[sources]]
name = "{name}"
lang = "en"
feeds = {feeds}
sitemaps = {sitemaps}
article_pattern = '{pattern}'
"""
ARTICLE = r"/a/\d+/\d+\.html$"


def write_config(tmp_path: Path, crawl: str, sources: list[dict[str, Any]]) -> Path:
    path = tmp_path / "work" / "newswatch.toml"
    path.parent.mkdir(exist_ok=True)
    text = CONFIG.format(crawl=crawl)
    for s in sources:
        text += SOURCE.format(
            name=s["name"],
            feeds=json.dumps(s.get("feeds", [])),
            sitemaps=json.dumps(s.get("sitemaps", [])),
            pattern=s.get("pattern", ARTICLE),
        )
    path.write_text(text, encoding="utf-8")
    return path


def index_xml(base: str, count: int, *, lastmod: bool = False) -> bytes:
    """A sitemap index of ``count`` sitemaps, ``/sitemap-1.xml`` (the oldest) first."""
    entries = "".join(
        f"<sitemap><loc>{base}/sitemap-{n}.xml</loc>"
        + (f"<lastmod>2026-{1 + n % 12:02d}-01</lastmod>" if lastmod else "")
        + "</sitemap>\n"
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    ).encode()


def urlset_xml(base: str, sitemap: int, count: int) -> bytes:
    urls = "".join(f"<url><loc>{base}/a/{sitemap}/{m}.html</loc></url>\n" for m in range(count))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    ).encode()


# -- the rule for which sitemaps come first ---------------------------------------------


def entries(*specs: tuple[str, str | None]) -> list[SitemapEntry]:
    return [SitemapEntry(url, lastmod) for url, lastmod in specs]


def test_sitemaps_with_a_lastmod_come_latest_first_those_without_after_in_order() -> None:
    got = newest_first(
        entries(
            ("https://s.example/a.xml", "2026-01-01"),
            ("https://s.example/b.xml", None),
            ("https://s.example/c.xml", "2026-03-01T10:00:00+02:00"),
            ("https://s.example/d.xml", "not a date"),
            ("https://s.example/e.xml", "2026-02-01"),
        )
    )
    assert [e.url[-5:] for e in got] == ["c.xml", "e.xml", "a.xml", "b.xml", "d.xml"]


def test_without_lastmod_numbered_and_dated_archives_come_highest_number_first() -> None:
    dated = entries(*((f"https://s.example:8080/sitemap-{y}-{m:02d}.xml", None) for y, m in [
        (2025, 11), (2025, 12), (2026, 1), (2026, 2)
    ]))  # fmt: skip
    assert [e.url[-11:-4] for e in newest_first(dated)] == [
        "2026-02",
        "2026-01",
        "2025-12",
        "2025-11",
    ]
    chunks = entries(*((f"https://s.example/post-sitemap{n}.xml", None) for n in (1, 2, 10, 9)))
    assert [e.url for e in newest_first(chunks)][:2] == [
        "https://s.example/post-sitemap10.xml",
        "https://s.example/post-sitemap9.xml",
    ]


def test_without_lastmod_or_numbers_on_every_sitemap_the_index_order_is_kept() -> None:
    given = entries(
        ("https://s.example/news-sitemap.xml", None),
        ("https://s.example/post-sitemap2.xml", None),
        ("https://s.example/pages.xml", None),
    )
    assert newest_first(given) == given


# -- the caps on one spider's discovery, without a crawl ---------------------------------


def drain(agen: AsyncIterator[Request]) -> list[Request]:
    out: list[Request] = []
    while True:
        try:
            agen.__anext__().send(None)
        except StopIteration as done:
            out.append(done.value)
        except StopAsyncIteration:
            return out


def spider_for(tmp_path: Path, crawl: str) -> tuple[NewsSpider, Request]:
    config = write_config(
        tmp_path, crawl, [{"name": "big", "sitemaps": ["https://big.example/index.xml"]}]
    )
    crawler = get_crawler(NewsSpider, {"NEWSWATCH_CONFIG": str(config)})
    spider = NewsSpider.from_crawler(crawler, source="big")
    [start] = [r for r in drain(spider.start()) if r.meta["nw_via"] == "sitemap"]
    return spider, start


def answer(request: Request, body: bytes) -> XmlResponse:
    return XmlResponse(request.url, body=body, request=request, headers={"ETag": '"v1"'})


def test_an_index_of_ten_thousand_sitemaps_asks_for_the_newest_within_the_cap(
    tmp_path: Path,
) -> None:
    spider, start = spider_for(tmp_path, "max_sitemaps_per_source = 5")
    base = "https://big.example"
    asked = list(spider.parse_sitemap(answer(start, index_xml(base, 10_000))))
    # The index itself is one of the five sitemaps read.
    assert [r.url for r in asked] == [f"{base}/sitemap-{n}.xml" for n in (10000, 9999, 9998, 9997)]
    # Kept with the index's validators for a 304 next time: the newest, as many as may be read.
    links = json.loads(spider.ledger.validators[start.url][2])
    assert links == [f"{base}/sitemap-{n}.xml" for n in range(10000, 9995, -1)]


def test_entries_past_the_page_cap_are_neither_recorded_nor_looked_at(tmp_path: Path) -> None:
    spider, start = spider_for(tmp_path, "max_pages_per_source = 10")
    base = "https://big.example"
    [child, *_] = list(spider.parse_sitemap(answer(start, index_xml(base, 3))))
    requests = list(spider.parse_sitemap(answer(child, urlset_xml(base, 3, 50_000))))
    assert len(requests) == 10
    assert len(spider.ledger.listings) == 10  # the ledger grows with the page cap, no more
    assert spider.frontier.entries == 10  # the 11th entry met the cap: the rest is not read
    # The sitemap (and its index) have links left for the next pass: no validators kept.
    assert {child.url, start.url} <= spider.ledger.spoiled
    # Once the page cap is reached, no further sitemap is asked for.
    assert list(spider._sitemaps([f"{base}/other.xml"], 1)) == []


def test_entries_are_looked_at_up_to_their_cap(tmp_path: Path) -> None:
    spider, start = spider_for(tmp_path, "max_entries_per_source = 120")
    base = "https://big.example"
    children = list(spider.parse_sitemap(answer(start, index_xml(base, 3))))
    made = [
        r
        for n, c in enumerate(children)
        for r in spider.parse_sitemap(answer(c, urlset_xml(base, n, 100)))
    ]
    assert spider.frontier.entries == 120
    assert len(made) + len(spider.waiting) == 120  # out, or waiting for their turn
    assert children[1].url in spider.ledger.spoiled  # read in part: read again next time
    assert children[0].url not in spider.ledger.spoiled


# -- article requests out at once ------------------------------------------------------


class Engine:
    """What the spider asks of Scrapy's engine here: requests to crawl."""

    def __init__(self) -> None:
        self.crawled: list[Request] = []

    def crawl(self, request: Request) -> None:
        self.crawled.append(request)


def crawling(tmp_path: Path) -> tuple[NewsSpider, Engine, Request]:
    """A spider with an engine to crawl, and the request for its index's one sitemap."""
    spider, start = spider_for(tmp_path, "max_pages_per_source = 200")
    engine = Engine()
    spider.crawler.engine = engine  # type: ignore[assignment]
    [child] = list(spider.parse_sitemap(answer(start, index_xml("https://big.example", 1))))
    return spider, engine, child


def answer_article(spider: NewsSpider, request: Request, fail: bool) -> None:
    if fail:
        failure = Failure(ConnectionRefusedError())
        failure.request = request  # type: ignore[attr-defined]  # as Scrapy sets it
        list(spider.article_failed(failure))
    else:
        page = b"<html><body><p>An article.</p></body></html>"
        headers = {"Content-Type": "text/html; charset=utf-8"}
        response = HtmlResponse(request.url, body=page, request=request, headers=headers)
        list(spider.parse_article(response))


def test_admitted_articles_go_out_a_window_at_a_time(tmp_path: Path) -> None:
    spider, engine, child = crawling(tmp_path)
    base = "https://big.example"
    out = list(spider.parse_sitemap(answer(child, urlset_xml(base, 1, 150))))
    assert spider.window == 48  # 3 x Scrapy's CONCURRENT_REQUESTS (16)
    assert len(out) == 48 and len(spider.waiting) == 102  # all 150 admitted
    asked, peak, handed = [r.url for r in out], len(out), []
    for n in range(150):
        answer_article(spider, out.pop(0), fail=n % 7 == 0)  # a failure answers too
        out += engine.crawled
        handed += engine.crawled
        asked += [r.url for r in engine.crawled]
        engine.crawled.clear()
        peak = max(peak, len(out))
    assert out == [] and not spider.waiting
    assert peak == 48
    # Sent past the spider middlewares, with the Referer Scrapy's would have given them.
    assert {r.headers.get("Referer") for r in handed} == {child.url.encode()}
    assert sorted(asked) == sorted(f"{base}/a/1/{m}.html" for m in range(150))  # each once


def test_a_shared_frontier_takes_every_admitted_article_at_once() -> None:
    settings = Settings({"CONCURRENT_REQUESTS": 4})
    assert article_window(settings, shared=False) == 12
    assert article_window(settings, shared=True) == sys.maxsize  # they wait in Redis


def test_an_article_request_scrapy_drops_counts_as_answered(tmp_path: Path) -> None:
    spider, engine, child = crawling(tmp_path)
    base = "https://big.example"
    [first, *_] = list(spider.parse_sitemap(answer(child, urlset_xml(base, 1, 50))))
    # Its redirect to a page fetched already, refused by the duplicate filter:
    spider.request_dropped(first.replace(url=f"{base}/a/1/1.html"))
    assert [r.url for r in engine.crawled] == [f"{base}/a/1/48.html"]
    spider.request_dropped(child)  # not an article: nothing more goes out
    assert len(engine.crawled) == 1


def test_waiting_articles_get_no_referer_where_scrapy_sends_none() -> None:
    assert referer_middleware(get_crawler(settings_dict={"REFERER_ENABLED": False})) is None
    off = {"SPIDER_MIDDLEWARES": {REFERER_MIDDLEWARE: None}}
    assert referer_middleware(get_crawler(settings_dict=off)) is None
    assert referer_middleware(get_crawler()) is not None


def test_an_idle_crawl_sends_what_waits_and_a_stopped_one_sends_nothing(tmp_path: Path) -> None:
    spider, engine, child = crawling(tmp_path)
    base = "https://big.example"
    assert len(list(spider.parse_sitemap(answer(child, urlset_xml(base, 1, 60))))) == 48
    # Scrapy dropped the 48 without an answer (a filter of its own): the crawl goes idle.
    with pytest.raises(DontCloseSpider):
        spider.idle()
    assert len(engine.crawled) == 12 and not spider.waiting
    spider.idle()  # nothing waits: the crawl may close
    # A crawl being stopped sends nothing more: what waits is left for the next pass.
    list(spider.parse_sitemap(answer(child, urlset_xml(base, 2, 100))))
    spider.stopping = "source_timeout"
    engine.crawled.clear()
    spider.handed = 0
    spider.hand_over()
    spider.idle()
    assert engine.crawled == [] and spider.waiting


# -- a crawl against a generated sitemap index --------------------------------------------


@dataclass
class Generated:
    base: str
    log: list[str]
    referers: dict[str, str]  # path -> the Referer it was asked with

    def asked(self, pattern: str) -> list[str]:
        return [t for t in list(self.log) if re.search(pattern, t)]


@pytest.fixture
def huge_index() -> Iterator[Generated]:
    """An index of 10,000 sitemaps of 5,000 URLs each, every answer made when asked."""
    log: list[str] = []
    referers: dict[str, str] = {}
    sitemaps, urls = 10_000, 5_000

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            log.append(self.path)
            referers[self.path] = self.headers.get("Referer", "")
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/index.xml":
                body, ctype = index_xml(base, sitemaps), "application/xml"
            elif m := re.fullmatch(r"/sitemap-(\d+)\.xml", self.path):
                body, ctype = urlset_xml(base, int(m[1]), urls), "application/xml"
            elif m := re.fullmatch(r"/a/(\d+)/(\d+)\.html", self.path):
                html = article_html(int(m[1]) * urls + int(m[2])).replace("{{base}}", base)
                body, ctype = html.encode(), "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Generated(f"http://127.0.0.1:{server.server_address[1]}", log, referers)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def last_counts(config: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        row = conn.execute("SELECT sources FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return cast(dict[str, dict[str, Any]], json.loads(row[0]))
    finally:
        conn.close()


def big_source(tmp_path: Path, crawl: str, index: Generated) -> Path:
    """The config of one source, "big", whose sitemap is the generated index."""
    return write_config(tmp_path, crawl, [{"name": "big", "sitemaps": [f"{index.base}/index.xml"]}])


@pytest.mark.crawl
def test_a_huge_sitemap_index_costs_the_caps_and_the_next_pass_gets_further(
    tmp_path: Path, huge_index: Generated
) -> None:
    crawl = "obey_robots = false\nmax_pages_per_source = 6\nmax_sitemaps_per_source = 3"
    config = big_source(tmp_path, crawl, huge_index)
    first = run_newswatch("run", config=config)
    assert first.code == 0, first.out + first.err
    sitemaps = huge_index.asked(r"\.xml$")
    assert sorted(sitemaps) == ["/index.xml", "/sitemap-10000.xml", "/sitemap-9999.xml"]
    fetched = huge_index.asked(r"^/a/")
    assert len(fetched) == 6 and all(re.match(r"/a/(10000|9999)/", a) for a in fetched)
    assert first.err.count("max_pages_per_source") == 1 and "big:" in first.err
    assert "Traceback" not in first.err

    huge_index.log.clear()
    second = run_newswatch("run", config=config)
    assert second.code == 0, second.out + second.err
    assert len(huge_index.asked(r"\.xml$")) <= 3
    again = huge_index.asked(r"^/a/")
    assert len(again) == 6 and not set(again) & set(fetched)  # six more, none twice
    assert last_counts(config)["big"]["fetched"] == 6


@pytest.mark.crawl
def test_a_crawl_past_its_window_fetches_every_admitted_article_once(
    tmp_path: Path, huge_index: Generated
) -> None:
    # 150 admitted articles, 48 out at a time: the rest go out as those are answered.
    crawl = "obey_robots = false\nmax_pages_per_source = 150\nmax_sitemaps_per_source = 2"
    config = big_source(tmp_path, crawl, huge_index)
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.out + result.err
    fetched = huge_index.asked(r"^/a/")
    assert len(fetched) == 150 and len(set(fetched)) == 150
    # The first 48 and those that waited reach the site alike, listed by one sitemap.
    [sitemap] = {huge_index.referers[a] for a in fetched}
    assert re.fullmatch(rf"{huge_index.base}/sitemap-\d+\.xml", sitemap)
    assert last_counts(config)["big"]["fetched"] == 150
    assert "Traceback" not in result.err


@pytest.mark.crawl
def test_the_sitemap_cap_warns_once_naming_the_source(
    tmp_path: Path, huge_index: Generated
) -> None:
    crawl = "obey_robots = false\nmax_sitemaps_per_source = 4\nmax_entries_per_source = 7"
    config = big_source(tmp_path, crawl, huge_index)
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.out + result.err
    assert len(huge_index.asked(r"\.xml$")) == 4
    assert len(huge_index.asked(r"^/a/")) == 7  # entries looked at, then no more
    assert result.err.count("max_sitemaps_per_source") == 1
    assert result.err.count("max_entries_per_source") == 1
    assert "big:" in result.err and "Traceback" not in result.err


# -- time budgets -------------------------------------------------------------------------


@pytest.fixture
def fast_and_slow(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    root = tmp_path / "sites"
    write_site(root / "fast", 8)
    write_site(root / "slow", 40)
    with serve_sites(root, ["fast", "slow"]) as servers:
        servers.set_delay("slow", 2.0)  # a tarpit: every answer takes two seconds
        yield servers, root


def stored(config: Path, source: str) -> int:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        return int(
            conn.execute("SELECT count(*) FROM articles WHERE source = ?", (source,)).fetchone()[0]
        )
    finally:
        conn.close()


def budget_config(tmp_path: Path, servers: Any, crawl: str) -> Path:
    return write_config(
        tmp_path,
        "obey_robots = false\ntimeout = 20\n" + crawl,
        [
            {"name": name, "feeds": [servers[name] + "/feed.xml"], "pattern": "/news/"}
            for name in ("fast", "slow")
        ],
    )


@pytest.mark.crawl
@pytest.mark.parametrize(
    ("crawl", "reason", "said"),
    [
        ("source_timeout_minutes = 0.1", "source_timeout", "stopped after its time budget"),
        ("pass_timeout_minutes = 0.1", "pass_timeout", "stopped at the pass deadline"),
    ],
    ids=["source budget", "pass deadline"],
)
def test_a_tarpit_is_closed_at_its_budget_and_the_healthy_source_is_stored(
    tmp_path: Path, fast_and_slow: tuple[Any, Path], crawl: str, reason: str, said: str
) -> None:
    servers, _ = fast_and_slow
    config = budget_config(tmp_path, servers, crawl)
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.out + result.err
    assert stored(config, "fast") == 8
    # One answer every two seconds, one at a time: the feed and a few articles before the
    # close, one more in transfer then; the requests queued behind it were dropped.
    assert len(servers.requests("slow")) <= 6
    counts = last_counts(config)
    assert counts["slow"]["stopped"] == reason and counts["fast"]["stopped"] == ""
    assert f"slow {said}" in result.out  # the summary line
    assert f"slow: {counts['slow']['requests']} requests" in result.out
    assert counts["slow"]["requests"] == len(servers.requests("slow"))  # dropped: not sent
    assert result.err.count(said) == 1 and "slow:" in result.err
    assert "Traceback" not in result.err


def test_a_stopped_source_is_named_in_its_line_the_table_and_the_summary() -> None:
    slow = SourceReport("slow", requests=4, discovery_ok=1, stopped="pass_timeout")
    fine = SourceReport("fast", requests=9, discovery_ok=1, new=8)
    assert source_line(slow) == (
        "slow: 4 requests, 0 new, 0 relevant, 0 errors; stopped at the pass deadline"
    )
    assert source_line(fine) == "fast: 9 requests, 8 new, 0 relevant, 0 errors"
    report = PassReport(3, [fine, slow])
    assert summary_line(report).endswith("0 error(s); slow stopped at the pass deadline")
    stats = {"finish_reason": "source_timeout", "downloader/request_count": 2}
    assert SourceReport.from_stats("slow", stats).stopped == "source_timeout"
    assert SourceReport.from_stats("slow", {"finish_reason": "finished"}).stopped == ""
