"""``article_pattern`` is tested on the canonical URL: a link with tracking parameters
(``/slug,97215.html?utm_source=facebook``) is an article for a pattern ending in ``$``, on a
section page, in a feed and in a sitemap alike, and ``sources check`` counts it."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import run_newswatch
from scrapy.http import HtmlResponse

from crawler.discovery import article_links, is_article_url, matches_pattern
from samples.localserver import serve_sites

PATTERN = re.compile(r",\d+\.html$")

SECTION = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Section</title></head>
<body><h1>Section</h1><ul>
<li><a href="/news/first-story,1001.html?utm_source=facebook">First story</a></li>
<li><a href="/news/second-story,1002.html?utm_medium=social&amp;utm_source=x">Second</a></li>
<li><a href="/about.html?utm_source=facebook">About us</a></li>
</ul></body></html>
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Feed</title><link>{{base}}/</link>
<item><title>Feed story</title><link>{{base}}/news/feed-story,2001.html?utm_source=rss</link>
<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>
"""

SITEMAP = """<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{{base}}/news/map-story,3001.html?utm_campaign=sitemap</loc></url>
</urlset>
"""

PARAGRAPH = (
    "The harbour council met on Tuesday evening to discuss the new ferry timetable, which"
    " residents say leaves the island without a connection for most of the afternoon. Several"
    " speakers asked the operator to restore the midday crossing before the summer season."
)

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><article><h1>{title}</h1>{paragraphs}</article></body></html>
"""

CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
max_age_days = 0

[crawl]
download_delay = 0
autothrottle_start_delay = 0
allow_private_targets = ["127.0.0.1/32"]

[[sources]]
name = "utm"
lang = "en"
feeds = ["{base}/feed.xml"]
sitemaps = ["{base}/sitemap.xml"]
start_urls = ["{base}/section.html"]
article_pattern = ',\\d+\\.html$'
"""

ARTICLE_PATHS = {
    "/news/first-story,1001.html",
    "/news/second-story,1002.html",
    "/news/feed-story,2001.html",
    "/news/map-story,3001.html",
}


def write_site(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "section.html").write_text(SECTION, encoding="utf-8")
    (folder / "feed.xml").write_text(FEED, encoding="utf-8")
    (folder / "sitemap.xml").write_text(SITEMAP, encoding="utf-8")
    (folder / "about.html").write_text(ARTICLE.format(title="About", paragraphs=""))
    for n, path in enumerate(sorted(ARTICLE_PATHS)):
        paragraphs = "".join(f"<p>{PARAGRAPH} ({n}.{i})</p>" for i in range(4))
        title = f"Story {n}"
        (folder / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (folder / path.lstrip("/")).write_text(
            ARTICLE.format(title=title, paragraphs=paragraphs), encoding="utf-8"
        )


def test_the_pattern_is_tested_on_the_canonical_url() -> None:
    tracked = "https://site.example/news/slug,97215.html?utm_source=facebook"
    assert matches_pattern(tracked, PATTERN)
    assert is_article_url(tracked, PATTERN, "https://site.example/")
    assert not matches_pattern("https://site.example/news/slug,97215.html?page=2", PATTERN)
    assert matches_pattern("https://site.example/anything", None)


def test_section_links_with_tracking_parameters_match() -> None:
    response = HtmlResponse(
        "http://127.0.0.1:8/section.html", body=SECTION.encode(), encoding="utf-8"
    )
    links = list(article_links(response, PATTERN))
    assert [link.split("/")[-1] for link in links] == [
        "first-story,1001.html?utm_source=facebook",
        "second-story,1002.html?utm_medium=social&utm_source=x",
    ]


@pytest.mark.crawl
def test_tracked_links_are_fetched_and_counted(tmp_path: Path) -> None:
    write_site(tmp_path / "sites" / "utm")
    with serve_sites(tmp_path / "sites", ["utm"]) as servers:
        config = tmp_path / "work" / "newswatch.toml"
        config.parent.mkdir()
        config.write_text(CONFIG.format(base=servers["utm"]), encoding="utf-8")
        check = run_newswatch("sources", "check", "utm", "--json", config=config)
        assert check.code == 0, check.err
        matched = {
            d["url"].removeprefix(servers["utm"]): d["matched"]
            for d in json.loads(check.out)["discovery"]
        }
        assert matched == {"/feed.xml": 1, "/sitemap.xml": 1, "/section.html": 2}
        result = run_newswatch("run", "--no-send", config=config)
        assert result.code == 0, result.err
        asked = {r.target for r in servers.requests("utm")}
    assert asked >= ARTICLE_PATHS
    assert not any(target.startswith("/about.html") for target in asked)
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        stored = {r[0] for r in conn.execute("SELECT url FROM articles WHERE source = 'utm'")}
    finally:
        conn.close()
    assert {url.removeprefix(servers["utm"]) for url in stored} == ARTICLE_PATHS
