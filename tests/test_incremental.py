"""Incremental passes on real components: a generated news site served on 127.0.0.1, real
``newswatch run`` passes, the real SQLite file. Request counts come from the server's log.

The site (samples/sitegen.py) has a feed of the latest articles, a sitemap index of Google
News sitemaps that only robots.txt names, and paginated section pages.
"""

from __future__ import annotations

import json
import mailbox
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import run_newswatch
from services.dataset import query_dataset

from samples.localserver import RequestRecord, SiteServers, serve_sites
from samples.sitegen import article_html, article_path, article_title, published, write_site

pytestmark = pytest.mark.crawl  # every test runs newswatch passes
pytest_plugins = ["services.postgres"]  # use_store_backend: the main case on PostgreSQL too

ARTICLES = 30
PATTERN = r"/news/\d{4}/\d\d/story-"

CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
maildir = "maildir"
max_age_days = {max_age}

[crawl]
allow_private_targets = ["127.0.0.1"]
download_delay = 0
autothrottle_start_delay = 0
concurrent_per_domain = 4
obey_robots = {obey}

[health]
failing_passes = 2
operator = ["ops@example.org"]

[[sources]]
name = "gen"
lang = "en"
feeds = {feeds}
sitemaps = {sitemaps}
start_urls = {starts}
article_pattern = '{pattern}'
follow_depth = 2
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[SiteServers, Path]]:
    root = tmp_path / "sites"
    write_site(root / "gen", ARTICLES)
    with serve_sites(root, ["gen"]) as servers:
        yield servers, root / "gen"


def write_config(
    tmp_path: Path,
    base: str,
    *,
    feeds: tuple[str, ...] = ("/feed.xml",),
    sitemaps: tuple[str, ...] = (),
    starts: tuple[str, ...] = ("/news/",),
    max_age: int = 0,
    obey: bool = True,
) -> Path:
    path = tmp_path / "work" / "newswatch.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        CONFIG.format(
            feeds=json.dumps([base + f for f in feeds]),
            sitemaps=json.dumps([base + s for s in sitemaps]),
            starts=json.dumps([base + s for s in starts]),
            pattern=PATTERN,
            max_age=max_age,
            obey=str(obey).lower(),
        ),
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> str:
    result = run_newswatch("run", *args, config=config)
    assert result.code == 0, result.out + result.err
    return result.out


query = query_dataset


def articles_asked(log: list[RequestRecord]) -> list[str]:
    return [r.target for r in log if r.target.startswith("/news/20")]


def last_run_counts(config: Path) -> dict[str, Any]:
    row = query(config, "SELECT sources FROM runs ORDER BY id DESC LIMIT 1")[0]
    counts: dict[str, Any] = json.loads(row["sources"])["gen"]
    return counts


def add_to_feed(folder: Path, items: str) -> None:
    feed = folder / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    feed.write_text(text.replace("<item>", items + "<item>", 1), encoding="utf-8")


@pytest.fixture(autouse=True)
def _on_both_backends(
    use_store_backend: Callable[[Path], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test of this module runs on SQLite and on PostgreSQL: the config it writes
    names the test's backend."""
    written = write_config
    monkeypatch.setitem(
        globals(), "write_config", lambda *a, **k: use_store_backend(written(*a, **k))
    )


def test_unchanged_site_costs_304s_and_new_articles_cost_one_request_each(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, folder = site
    base = servers["gen"]
    config = write_config(tmp_path, base)
    run(config)
    first = servers.requests("gen")
    assert [r.target for r in first].count("/robots.txt") == 1  # Scrapy's read serves both
    assert sorted(articles_asked(first)) == sorted(article_path(i) for i in range(ARTICLES))
    assert "/news-sitemap-1.xml" in [r.target for r in first]  # named only by robots.txt

    # Unchanged: only discovery, every page answered 304 (robots.txt is Scrapy's to read).
    servers.clear_requests()
    run(config)
    second = sorted((r.target, r.status) for r in servers.requests("gen"))
    assert second == [
        ("/feed.xml", 304),
        ("/news-sitemap-1.xml", 304),
        ("/news/", 304),
        ("/robots.txt", 200),
        ("/sitemap_index.xml", 304),
    ]
    assert last_run_counts(config)["not_modified"] == 4

    # Three new articles: one only in the feed, one only in the news sitemap, one only on
    # the section page; none of the three pages carries a date of its own. Two more feed
    # items are variants of a stored URL (tracking parameters, www.).
    new = {n: article_path(n) for n in (100, 101, 102)}
    for n, path in new.items():
        servers.write("gen", path, article_html(n, dated=False))
    stamp = published(100).strftime("%a, %d %b %Y %H:%M:%S GMT")
    add_to_feed(
        folder,
        f"<item><title>{article_title(100)}</title><link>{{{{base}}}}{new[100]}</link>"
        f"<pubDate>{stamp}</pubDate></item>"
        f"<item><title>again</title><link>{{{{base}}}}{article_path(3)}?utm_source=rss"
        "&amp;utm_medium=feed#top</link></item>"
        f"<item><title>again</title><link>{base.replace('//', '//www.')}{article_path(4)}"
        "</link></item>",
    )
    sitemap = folder / "news-sitemap-1.xml"
    entry = (
        f"<url><loc>{{{{base}}}}{new[101]}</loc><news:news><news:publication><news:name>G"
        "</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2026-11-02T06:30:00Z</news:publication_date>"
        "<news:title>From the news sitemap</news:title></news:news></url>\n"
    )
    sitemap.write_text(sitemap.read_text("utf-8").replace("</urlset>", entry + "</urlset>"))
    section = folder / "news" / "index.html"
    link = f'<li><a href="{{{{base}}}}{new[102]}">{article_title(102)}</a></li>\n'
    section.write_text(section.read_text("utf-8").replace("<ul>\n", "<ul>\n" + link, 1))

    servers.clear_requests()
    run(config)
    third = servers.requests("gen")
    assert sorted(articles_asked(third)) == sorted(new.values())  # each once, nothing else
    assert not any("utm_" in r.target for r in third)
    assert "dns" not in last_run_counts(config)["errors"]
    rows = {
        r["url"].removeprefix(base): r
        for r in query(config, "SELECT * FROM articles WHERE source = 'gen'")
    }
    assert len(rows) == ARTICLES + 3
    from_feed, from_sitemap = rows[new[100]], rows[new[101]]
    assert (from_feed["published"], from_feed["date_source"]) == (
        published(100).isoformat(),
        "feed",
    )
    assert from_feed["feed_title"] == article_title(100)
    assert (from_sitemap["published"], from_sitemap["date_source"]) == (
        "2026-11-02T06:30:00+00:00",
        "sitemap",
    )
    assert from_sitemap["feed_title"] == "From the news sitemap"
    assert from_sitemap["canonical_url"] == base + new[101]


def test_a_page_whose_links_failed_is_read_again_in_full(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    """A 304 must never hide a link that could not be fetched: the listing that named it
    keeps no validator until every link on it was fetched."""
    servers, _ = site
    # Not obeying robots.txt, newswatch still reads it (itself) for its Sitemap: lines.
    config = write_config(tmp_path, servers["gen"], starts=(), obey=False)
    broken = article_path(ARTICLES - 1)  # in the feed, and in the sitemap
    servers.fail_next("gen", broken, 500, times=6)  # both passes' retries, then it heals
    run(config)
    assert last_run_counts(config)["errors"] == {"http_500": 1}
    servers.clear_requests()
    run(config)
    log = servers.requests("gen")
    feed = [r.status for r in log if r.target == "/feed.xml"]
    assert feed == [200]  # not 304: its validator was not kept
    assert [r.status for r in log if r.target == broken] == [500, 500, 500]
    servers.clear_requests()
    run(config)
    log = servers.requests("gen")
    assert [r.status for r in log if r.target == broken] == [200]
    servers.clear_requests()
    run(config)
    assert sorted((r.target, r.status) for r in servers.requests("gen")) == [
        ("/feed.xml", 304),
        ("/news-sitemap-1.xml", 304),
        ("/robots.txt", 200),
        ("/sitemap_index.xml", 304),
    ]


def test_a_section_page_answering_304_still_leads_to_the_feed_it_advertises(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, folder = site
    config = write_config(tmp_path, servers["gen"], feeds=())
    run(config)
    assert [r.target for r in servers.requests("gen")].count("/feed.xml") == 1
    servers.write("gen", article_path(100), article_html(100))
    add_to_feed(folder, f"<item><link>{{{{base}}}}{article_path(100)}</link></item>")
    servers.clear_requests()
    run(config)
    log = sorted((r.target, r.status) for r in servers.requests("gen"))
    assert ("/news/", 304) in log and ("/feed.xml", 200) in log
    assert articles_asked(servers.requests("gen")) == [article_path(100)]


def test_retry_after_is_honoured_and_gzip_is_read(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, _ = site
    config = write_config(tmp_path, servers["gen"])
    servers.fail_next("gen", "/feed.xml", 429, retry_after="1")
    servers.fail_next("gen", "/news/", 503, retry_after="0")
    servers.set_gzip("gen")
    run(config)
    log = servers.requests("gen")
    assert [r.status for r in log if r.target == "/feed.xml"] == [429, 200]
    assert [r.status for r in log if r.target == "/news/"] == [503, 200]
    assert last_run_counts(config)["errors"] == {}
    assert len(query(config, "SELECT id FROM articles WHERE source = 'gen'")) == ARTICLES


def test_gzip_sitemap_files_and_old_entries(tmp_path: Path, site: tuple[SiteServers, Path]) -> None:
    """A .xml.gz sitemap is read; entries older than max_age_days cost no request."""
    import gzip
    from datetime import UTC, datetime, timedelta

    servers, folder = site
    now = datetime.now(UTC)
    dates = {0: now - timedelta(days=2), 1: now - timedelta(days=3), 2: now - timedelta(days=90)}
    urls = "".join(
        f"<url><loc>{servers['gen']}{article_path(i)}</loc>"
        f"<lastmod>{when.isoformat()}</lastmod></url>"
        for i, when in dates.items()
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (folder / "recent.xml.gz").write_bytes(gzip.compress(xml.encode()))
    (folder / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    config = write_config(
        tmp_path, servers["gen"], feeds=(), sitemaps=("/recent.xml.gz",), starts=(), max_age=30
    )
    run(config)
    assert sorted(articles_asked(servers.requests("gen"))) == sorted(
        [article_path(0), article_path(1)]
    )


def test_sitemap_indexes_are_followed_three_levels_deep_each_once(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, _ = site

    def index(*names: str) -> str:
        entries = "".join(f"<sitemap><loc>{{{{base}}}}/{n}</loc></sitemap>" for n in names)
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex'
            f' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
        )

    servers.write("gen", "/i0.xml", index("i0.xml", "i1.xml", "news-sitemap-1.xml"))
    servers.write("gen", "/i1.xml", index("i2.xml", "i0.xml"))
    servers.write("gen", "/i2.xml", index("i3.xml"))
    servers.write("gen", "/i3.xml", index("too-deep.xml"))
    servers.write("gen", "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    config = write_config(tmp_path, servers["gen"], feeds=(), sitemaps=("/i0.xml",), starts=())
    run(config)
    asked = [r.target for r in servers.requests("gen") if r.target.endswith(".xml")]
    assert sorted(asked) == ["/i0.xml", "/i1.xml", "/i2.xml", "/i3.xml", "/news-sitemap-1.xml"]
    assert len(articles_asked(servers.requests("gen"))) == ARTICLES


def test_rel_canonical_and_redirects_name_the_same_article(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, folder = site
    base = servers["gen"]
    config = write_config(tmp_path, base, starts=())
    # A WordPress-like article at a folder URL, listed with its slash.
    servers.write("gen", "/news/2026/07/story-feature/index.html", article_html(200))
    add_to_feed(folder, "<item><link>{{base}}/news/2026/07/story-feature/</link></item>")
    run(config)
    count = len(query(config, "SELECT id FROM articles"))
    # A copy at another URL naming the stored page as canonical, and the folder URL without
    # its slash (the server answers 301 to the slashed one).
    servers.write("gen", "/news/2026/07/story-copy-of-5.html", article_html(5))
    add_to_feed(
        folder,
        "<item><link>{{base}}/news/2026/07/story-copy-of-5.html</link></item>"
        "<item><link>{{base}}/news/2026/07/story-feature</link></item>",
    )
    servers.clear_requests()
    run(config)
    asked = [(r.target, r.status) for r in servers.requests("gen")]
    assert ("/news/2026/07/story-copy-of-5.html", 200) in asked
    assert ("/news/2026/07/story-feature", 301) in asked
    assert len(query(config, "SELECT id FROM articles")) == count  # no second row
    assert query(config, "SELECT count(*) FROM alerts")[0][0] == 0
    seen = {r["url_key"] for r in query(config, "SELECT url_key FROM seen_urls")}
    host = base.removeprefix("http://")
    assert {
        host + "/news/2026/07/story-copy-of-5.html",
        host + article_path(5),
        host + "/news/2026/07/story-feature",
        host + "/news/2026/07/story-feature/",
    } <= seen
    servers.clear_requests()
    run(config)
    assert articles_asked(servers.requests("gen")) == []


def test_a_source_that_stays_down_gets_one_operator_email_and_one_when_back(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, _ = site
    config = write_config(tmp_path, servers["gen"])
    servers.take_down("gen")
    box = config.parent / "maildir"

    def mails() -> list[Any]:
        return list(mailbox.Maildir(box, create=True).values()) if box.exists() else []

    first = run_newswatch("run", config=config)
    assert first.code == 1
    # Under cron: the source's line and one summary line that names it, at a glance.
    assert first.out.splitlines()[0].startswith("gen: ")
    assert first.out.splitlines()[1].endswith("; gen FAILED (refused 2)")
    assert "newswatch: ERROR gen: " in first.err
    status = run_newswatch("sources", "status", config=config)
    line = next(x for x in status.out.splitlines() if x.startswith("gen"))
    assert "refused" in line and "1 bad pass" in line
    assert mails() == []
    assert run_newswatch("run", config=config).code == 1
    third = run_newswatch("run", config=config)
    assert third.code == 1
    assert third.out.splitlines()[1].endswith(
        "; gen FAILED (refused 2; 3 bad passes in a row; source failing, operator notified)"
    )
    table = run_newswatch("sources", "status", config=config).out.splitlines()
    assert table[1].split()[:3] == ["gen", "FAILING", "since"]
    assert table[-2:] == ["1 source(s) FAILING: gen", "see why: newswatch sources check gen"]
    (notice,) = mails()
    assert notice["To"] == "ops@example.org"
    assert "gen is failing" in notice["Subject"]
    status = run_newswatch("sources", "status", "--json", config=config)
    (row,) = [json.loads(x) for x in status.out.splitlines()]
    assert (row["state"], row["passes"], row["errors"]["refused"] > 0) == ("failing", 3, True)

    servers.bring_up("gen")
    run(config)
    subjects = [m["Subject"] for m in mails()]
    assert len(subjects) == 2
    assert any("gen has recovered" in s for s in subjects)
    run(config)
    assert len(mails()) == 2


def test_two_sources_sharing_a_feed_keep_their_own_validators(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    """Each source asks conditionally with the validators it saved itself."""
    servers, _ = site
    base = servers["gen"]
    config = write_config(tmp_path, base, starts=())
    text = config.read_text("utf-8")
    twin = text[text.index("[[sources]]") :].replace('name = "gen"', 'name = "twin"')
    config.write_text(text + "\n" + twin, encoding="utf-8")
    run(config)
    asked = articles_asked(servers.requests("gen"))
    assert sorted(asked) == sorted(article_path(i) for i in range(ARTICLES))  # each once
    keys = query(config, "SELECT source, url FROM http_validators WHERE url LIKE '%/feed.xml'")
    assert sorted(tuple(r) for r in keys) == [
        ("gen", base + "/feed.xml"),
        ("twin", base + "/feed.xml"),
    ]
    servers.clear_requests()
    run(config)
    feed = [r.status for r in servers.requests("gen") if r.target == "/feed.xml"]
    assert feed == [304, 304]  # one per source, neither reads it in full


def test_a_source_whose_every_article_fails_is_shown_as_giving_no_article(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    """The feed reads fine, so the pass does not fail; but nothing came of the source."""
    servers, _ = site
    config = write_config(tmp_path, servers["gen"], starts=(), obey=False)
    for n in range(ARTICLES):
        servers.fail_next("gen", article_path(n), 503, times=3)  # each try and its 2 retries
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.out + result.err
    line, summary = result.out.splitlines()[:2]
    assert line.startswith("gen: ") and line.endswith(f"NO ARTICLE (http_503 {ARTICLES})")
    assert summary.startswith("run 1: ") and summary.endswith(
        f"; gen NO ARTICLE (http_503 {ARTICLES})"
    )
    state = query(config, "SELECT state, bad_passes FROM source_health WHERE source = 'gen'")
    assert tuple(state[0]) == ("ok", 1)


def test_an_article_its_sitemap_says_changed_is_fetched_again_and_updated_in_place(
    tmp_path: Path, site: tuple[SiteServers, Path]
) -> None:
    servers, folder = site
    config = write_config(tmp_path, servers["gen"])
    run(config)
    path = article_path(5)
    (before,) = query(config, "SELECT id, text FROM articles WHERE url LIKE ?", (f"%{path}",))
    alerts_before = query(config, "SELECT count(*) FROM alerts")[0][0]

    # The site edits article 5 and says so with a lastmod in its news sitemap.
    edited = article_html(5).replace(
        "</article>",
        "<p>Correction: the minister spoke on Friday, not Thursday.</p></article>",
    )
    servers.write("gen", path, edited)
    sitemap = folder / "news-sitemap-1.xml"
    # Edited a minute after we fetched it (timestamps have whole seconds).
    (seen,) = query(config, "SELECT max(last_seen) FROM seen_urls WHERE url LIKE ?", (f"%{path}",))
    stamp = (datetime.fromisoformat(seen[0]) + timedelta(minutes=1)).isoformat()
    text = sitemap.read_text("utf-8")
    loc = f"<loc>{{{{base}}}}{path}</loc>"
    assert loc in text
    sitemap.write_text(text.replace(loc, f"{loc}<lastmod>{stamp}</lastmod>", 1), "utf-8")

    servers.clear_requests()
    run(config)
    assert articles_asked(servers.requests("gen")) == [path]
    (after,) = query(
        config, "SELECT id, text, updated_at FROM articles WHERE url LIKE ?", (f"%{path}",)
    )
    assert after["id"] == before["id"] and "minister spoke on Friday" in after["text"]
    assert after["text"] != before["text"] and after["updated_at"]
    assert query(config, "SELECT count(*) FROM articles WHERE source = 'gen'")[0][0] == ARTICLES
    assert query(config, "SELECT count(*) FROM alerts")[0][0] == alerts_before

    # Fetched after that lastmod: the next pass leaves it alone.
    servers.clear_requests()
    run(config)
    assert articles_asked(servers.requests("gen")) == []
