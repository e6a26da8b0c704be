"""The local server and the sample sites it serves: what crawl tests rely on.

Two kinds of checks: the server speaks honest HTTP (mapping, 404, 304, logs, down and slow
sites, child-process mode), and MANIFEST.json says exactly what the feeds, sitemaps and
section pages of the sample sites list, since other tests take it as their expected values.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from samples.localserver import SITES_DIR, RequestRecord, SiteServers, serve_sites
from samples.manifest import (
    DEMO_DIR,
    HOLDOUT_DIR,
    SYNDICATION_DIR,
    Manifest,
    SampleArticle,
    load_manifest,
)
from samples.sitefiles import candidate_files, file_for_target

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "pipelines" / "seed_corpus"
MANIFEST = load_manifest(SITES_DIR)
SITES = sorted(MANIFEST)
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ISO_PAGE = "/bank-al-maghrib-croissance-2027,104455.html"
ARTICLE = "/maroc-commande-deuxieme-batterie-barak-mx,104672.html"
# Where each site keeps its article text: used only to check the seed copies.
BODY_XPATH = {
    "bladi": "//div[@class='texte']//p",
    "bladna": "//div[@class='artikel-tekst']//p",
    "trends": "//div[contains(@class, 'td-post-content')]//p",
}


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes


class _KeepEveryResponse(urllib.request.HTTPErrorProcessor):
    """Hand back 3xx/4xx responses instead of raising or following them."""

    def http_response(self, request: Any, response: Any) -> Any:
        return response


OPENER = urllib.request.build_opener(_KeepEveryResponse)


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET", timeout: float = 10
) -> Response:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    with OPENER.open(request, timeout=timeout) as response:
        return Response(response.status, response.headers, response.read())


def parse_html(response: Response) -> lxml.html.HtmlElement:
    """Decode with the HTTP charset, as a crawler does: the trends theme puts <title> before
    <meta charset>, so a parser left to guess from the bytes would get its title wrong."""
    charset = response.headers.get_content_charset() or "utf-8"
    return lxml.html.fromstring(response.body.decode(charset))


def target_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def canonical_target(url: str, site: str) -> str:
    """The manifest path of a listed URL: tracking parameters a site adds are dropped."""
    parts = urlsplit(url)
    drop = set(MANIFEST[site].tracking_params)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in drop])
    return parts.path + (f"?{query}" if query else "")


def entries(site: str, listed: str | None = None) -> list[SampleArticle]:
    rows = MANIFEST[site].articles
    return [r for r in rows if listed is None or listed in r.listed_in]


@pytest.fixture(scope="module")
def sample() -> Iterator[SiteServers]:
    """The bundled sites, read-only, shared by the tests that only read."""
    with serve_sites(SITES_DIR, SITES) as servers:
        yield servers


@pytest.fixture
def editable(tmp_path: Path) -> Iterator[tuple[SiteServers, Path]]:
    """A private copy of bladi that a test may edit while it is served."""
    shutil.copytree(SITES_DIR / "bladi", tmp_path / "bladi")
    with serve_sites(tmp_path, ["bladi"]) as servers:
        yield servers, tmp_path / "bladi"


# --- mapping a request to a file -------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "names"),
    [
        ("/a/b?x=1", ["a/b@x=1", "a/b"]),
        ("/", ["index.html", "index.xml"]),
        ("/feed/", ["feed/index.html", "feed/index.xml"]),
        ("/spip.php?page=backend", ["spip.php@page=backend", "spip.php"]),
        ("/caf%C3%A9.html", ["café.html"]),
    ],
)
def test_candidate_files(target: str, names: list[str]) -> None:
    assert candidate_files(target) == names


def test_placeholder_is_replaced_with_the_base_url(sample: SiteServers) -> None:
    base = sample["bladi"]
    response = fetch(base + ARTICLE)
    assert response.status == 200
    assert b"{{base}}" not in response.body
    assert f'href="{base}/maroc.html"'.encode() in response.body
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.body)


def test_query_string_maps_to_an_at_file(sample: SiteServers) -> None:
    base = sample["bladi"]
    page2 = fetch(base + "/maroc.html?debut_suite_rubrique=12").body
    expected = (SITES_DIR / "bladi" / "maroc.html@debut_suite_rubrique=12").read_bytes()
    assert page2 == expected.replace(b"{{base}}", base.encode())
    assert page2 != fetch(base + "/maroc.html").body


def test_unknown_query_is_ignored_like_real_servers_do(sample: SiteServers) -> None:
    base = sample["bladna"]
    path = "/handel-marokko-israel-groeit,38402.html"
    tracked = fetch(base + path + "?utm_source=rss&utm_medium=feed")
    assert tracked.status == 200
    assert tracked.body == fetch(base + path).body


@pytest.mark.parametrize(
    ("site", "target", "ctype"),
    [
        ("bladi", "/spip.php?page=backend", "application/rss+xml; charset=utf-8"),
        ("bladna", "/rss", "application/rss+xml; charset=utf-8"),
        ("trends", "/feed/", "application/rss+xml; charset=utf-8"),
        ("trends", "/feed/atom/", "application/atom+xml; charset=utf-8"),
        ("trends", "/wp-sitemap.xml", "application/xml; charset=utf-8"),
        ("bladna", "/sitemap-news.xml", "application/xml; charset=utf-8"),
        ("bladi", "/robots.txt", "text/plain; charset=utf-8"),
        ("trends", "/category/africa/page/2/", "text/html; charset=utf-8"),
        ("bladi", ISO_PAGE, "text/html; charset=iso-8859-1"),
    ],
)
def test_content_type(sample: SiteServers, site: str, target: str, ctype: str) -> None:
    assert fetch(sample[site] + target).headers["Content-Type"] == ctype


def test_declared_latin1_page_is_sent_as_latin1(sample: SiteServers) -> None:
    body = fetch(sample["bladi"] + ISO_PAGE).body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "La banque centrale marocaine a maintenu" in body.decode("iso-8859-1")


def test_folder_without_slash_redirects_like_wordpress(sample: SiteServers) -> None:
    response = fetch(sample["trends"] + "/category/africa")
    assert response.status == 301
    assert response.headers["Location"] == sample["trends"] + "/category/africa/"


def test_missing_file_is_a_404_with_a_small_html_body(sample: SiteServers) -> None:
    response = fetch(sample["bladi"] + "/nothing-here,1.html")
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Not Found" in response.body
    assert int(response.headers["Content-Length"]) == len(response.body)


@pytest.mark.parametrize("target", ["/../MANIFEST.json", "/%2e%2e/MANIFEST.json"])
def test_files_outside_the_site_are_never_served(sample: SiteServers, target: str) -> None:
    assert file_for_target(SITES_DIR / "bladi", target) is None
    assert fetch(sample["bladi"] + target).status == 404


def test_head_sends_the_headers_of_get_without_a_body(editable: tuple[SiteServers, Path]) -> None:
    servers, _ = editable
    got = fetch(servers["bladi"] + ARTICLE)
    head = fetch(servers["bladi"] + ARTICLE, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(got.body))
    assert head.headers["ETag"] == got.headers["ETag"]
    last = servers.requests("bladi")[-1]
    assert last == RequestRecord("HEAD", ARTICLE, 200, 0, last.user_agent)
    assert last.user_agent.startswith("Python-urllib/")  # the client's User-Agent is logged


# --- conditional GET ----------------------------------------------------------------------


def test_if_none_match_gets_304(editable: tuple[SiteServers, Path]) -> None:
    servers, _ = editable
    url = servers["bladi"] + "/spip.php?page=backend"
    etag = fetch(url).headers["ETag"]
    assert etag
    again = fetch(url, {"If-None-Match": etag})
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
    assert fetch(url, {"If-None-Match": '"other"'}).status == 200
    record = servers.requests("bladi")[-2]
    assert record[:4] == ("GET", "/spip.php?page=backend", 304, 0)


def test_if_modified_since_gets_304_until_the_file_changes(
    editable: tuple[SiteServers, Path],
) -> None:
    servers, folder = editable
    url = servers["bladi"] + "/sitemap.xml"
    last_modified = fetch(url).headers["Last-Modified"]
    assert fetch(url, {"If-Modified-Since": last_modified}).status == 304
    assert fetch(url, {"If-Modified-Since": formatdate(0, usegmt=True)}).status == 200
    assert fetch(url, {"If-Modified-Since": "not a date"}).status == 200


def test_a_changed_file_gets_a_new_etag(editable: tuple[SiteServers, Path]) -> None:
    servers, folder = editable
    url = servers["bladi"] + "/sitemap.xml"
    etag = fetch(url).headers["ETag"]
    path = folder / "sitemap.xml"
    path.write_bytes(path.read_bytes().replace(b"</urlset>", b"<!-- new -->\n</urlset>"))
    changed = fetch(url, {"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert changed.body.endswith(b"<!-- new -->\n</urlset>\n")


# --- request log, live edits, down and slow sites -------------------------------------------


def test_request_log_counts_every_request_exactly(editable: tuple[SiteServers, Path]) -> None:
    servers, _ = editable
    base = servers["bladi"]
    for target in [
        "/robots.txt",
        "/robots.txt",
        "/missing.html",
        "/maroc.html?debut_suite_rubrique=12",
    ]:
        fetch(base + target)
    robots = fetch(base + "/robots.txt").body
    log = servers.requests("bladi")
    assert [(r.method, r.target, r.status) for r in log] == [
        ("GET", "/robots.txt", 200),
        ("GET", "/robots.txt", 200),
        ("GET", "/missing.html", 404),
        ("GET", "/maroc.html?debut_suite_rubrique=12", 200),
        ("GET", "/robots.txt", 200),
    ]
    assert log[-1].bytes_sent == len(robots)
    servers.clear_requests()
    assert servers.requests("bladi") == []


def test_files_added_and_removed_while_serving(editable: tuple[SiteServers, Path]) -> None:
    servers, folder = editable
    url = servers["bladi"] + "/nouvel-article,200001.html"
    assert fetch(url).status == 404
    page = "<!DOCTYPE html><html lang='fr'><a href='{{base}}/'>x</a></html>"
    (folder / "nouvel-article,200001.html").write_text(page, encoding="utf-8")
    assert fetch(url).body == page.replace("{{base}}", servers["bladi"]).encode()
    (folder / "nouvel-article,200001.html").unlink()
    assert fetch(url).status == 404


def test_a_site_taken_down_refuses_connections_and_comes_back(
    editable: tuple[SiteServers, Path],
) -> None:
    servers, _ = editable
    url = servers["bladi"] + "/robots.txt"
    servers.take_down("bladi")
    with pytest.raises(urllib.error.URLError) as refused:
        fetch(url)
    assert isinstance(refused.value.reason, ConnectionRefusedError)
    servers.bring_up("bladi")
    assert servers["bladi"] + "/robots.txt" == url
    assert fetch(url).status == 200


def test_fail_next_answers_a_status_with_retry_after_then_serves_again(
    editable: tuple[SiteServers, Path],
) -> None:
    servers, _ = editable
    url = servers["bladi"] + "/spip.php?page=backend"
    servers.fail_next("bladi", "/spip.php?page=backend", 429, retry_after="7", times=2)
    first, second, third = (fetch(url) for _ in range(3))
    assert (first.status, first.headers["Retry-After"]) == (429, "7")
    assert second.status == 429 and third.status == 200
    assert [r.status for r in servers.requests("bladi")] == [429, 429, 200]
    assert fetch(servers["bladi"] + "/robots.txt").status == 200  # other paths unaffected


def test_gzip_content_encoding_only_for_clients_that_ask(
    editable: tuple[SiteServers, Path],
) -> None:
    servers, _ = editable
    url = servers["bladi"] + "/sitemap.xml"
    plain = fetch(url)
    servers.set_gzip("bladi")
    packed = fetch(url, {"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    assert servers.requests("bladi")[-1].bytes_sent == len(packed.body) < len(plain.body)
    assert fetch(url).headers["Content-Encoding"] is None  # no Accept-Encoding: plain
    assert fetch(url, {"If-None-Match": packed.headers["ETag"]}).status == 304


def test_write_adds_files_to_a_copy_never_to_the_bundled_sites(
    editable: tuple[SiteServers, Path], sample: SiteServers
) -> None:
    servers, folder = editable
    servers.write("bladi", "/nouveau/article,1.html", "<!DOCTYPE html><p>{{base}}</p>")
    got = fetch(servers["bladi"] + "/nouveau/article,1.html")
    assert got.body == f"<!DOCTYPE html><p>{servers['bladi']}</p>".encode()
    with pytest.raises(ValueError, match="outside the site folder"):
        servers.write("bladi", "../escape.html", "x")
    with pytest.raises(ValueError, match="serve a copy"):
        sample.write("bladi", "/x.html", "x")


def test_a_slow_site_makes_a_short_timeout_expire(editable: tuple[SiteServers, Path]) -> None:
    servers, _ = editable
    servers.set_delay("bladi", 30)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(servers["bladi"] + "/robots.txt", timeout=0.3)
    servers.set_delay("bladi", 0)
    assert fetch(servers["bladi"] + "/robots.txt").status == 200


def test_each_site_gets_its_own_port(sample: SiteServers) -> None:
    urls = [sample[name] for name in SITES]
    assert len(set(urls)) == len(SITES)
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", url) for url in urls)


def test_child_process_prints_one_url_per_site_and_logs_requests(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "samples.serve", str(SITES_DIR), "bladi", "trends"]
    with subprocess.Popen(
        [*command, "--log", str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        lines = [child.stdout.readline().split() for _ in range(2)]
        urls = dict(lines)
        assert sorted(urls) == ["bladi", "trends"]
        assert fetch(urls["trends"] + "/robots.txt").status == 200
        child.terminate()
        _, err = child.communicate(timeout=10)
    assert child.returncode == 0
    assert err == ""  # no access log on stderr
    (entry,) = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert entry["site"] == "trends"
    assert (entry["method"], entry["target"], entry["status"]) == ("GET", "/robots.txt", 200)


# --- the sample sites against MANIFEST.json ---------------------------------------------------


@pytest.mark.parametrize("site", SITES)
def test_manifest_paths_exist_unless_marked_missing(site: str) -> None:
    folder = SITES_DIR / site
    spec = MANIFEST[site]
    for row in entries(site):
        found = file_for_target(folder, row.path)
        assert (found is None) == (row.kind == "missing"), row.path
    listings = [spec.home, spec.robots, *spec.feeds, *spec.sitemaps]
    for target in [*listings, *spec.section_pages]:
        assert file_for_target(folder, target) is not None, target


@pytest.mark.parametrize("site", SITES)
def test_feed_links_are_exactly_the_manifest_feed_entries(sample: SiteServers, site: str) -> None:
    listed: set[str] = set()
    for feed in MANIFEST[site].feeds:
        parsed = feedparser.parse(fetch(sample[site] + feed).body)
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
        assert parsed.entries, feed
        for item in parsed.entries:
            assert item.link.startswith(sample[site] + "/")
            assert item.get("published") and item.get("summary"), item.link
            listed.add(canonical_target(item.link, site))
    assert listed == {row.path for row in entries(site, "feed")}


def _sitemap_locs(base: str, target: str) -> list[str]:
    root = lxml.etree.fromstring(fetch(base + target).body)
    locs = [(loc.text or "").strip() for loc in root.iterfind(f"{SM}*/{SM}loc")]
    if root.tag == f"{SM}sitemapindex":
        return [url for loc in locs for url in _sitemap_locs(base, target_of(loc))]
    return locs


@pytest.mark.parametrize("site", SITES)
def test_sitemap_links_are_in_the_manifest(sample: SiteServers, site: str) -> None:
    spec = MANIFEST[site]
    listed = {
        target_of(url) for target in spec.sitemaps for url in _sitemap_locs(sample[site], target)
    }
    pages = {row.path for row in entries(site)}
    assert listed - pages <= {spec.home, spec.section_pages[0]}
    assert listed & pages == {row.path for row in entries(site, "sitemap")}


def test_news_sitemap_carries_google_news_fields(sample: SiteServers) -> None:
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    root = lxml.etree.fromstring(fetch(sample["bladna"] + "/sitemap-news.xml").body)
    rows = {row.path: row for row in entries("bladna")}
    for url in root.iterfind(f"{SM}url"):
        row = rows[target_of(url.findtext(f"{SM}loc", ""))]
        assert url.findtext(f"{news}news/{news}publication_date") == row.published
        assert url.findtext(f"{news}news/{news}title") == row.title
        assert url.findtext(f"{news}news/{news}publication/{news}language") == "nl"


def _section_pages(base: str, first: str) -> Iterator[tuple[str, lxml.html.HtmlElement]]:
    """Follow rel="next" from the first section page, as a crawler would."""
    target: str | None = first
    while target is not None:
        page = parse_html(fetch(base + target))
        yield target, page
        following = page.xpath("//head/link[@rel='next']/@href")
        target = target_of(following[0]) if following else None


@pytest.mark.parametrize("site", SITES)
def test_section_pages_link_what_the_manifest_says(sample: SiteServers, site: str) -> None:
    base = sample[site]
    spec = MANIFEST[site]
    first_page: dict[str, int] = {}
    chain = []
    for number, (target, page) in enumerate(_section_pages(base, spec.section_pages[0]), 1):
        chain.append(target)
        following = page.xpath("//head/link[@rel='next']/@href")
        assert not following or following[0] in page.xpath("//body//a/@href")  # visible too
        for href in page.xpath("//a/@href"):
            url = urljoin(base + target, href)
            if url.startswith(base + "/"):
                first_page.setdefault(canonical_target(url, site), number)
    assert chain == list(spec.section_pages)
    for row in entries(site):
        assert ("section" in row.listed_in) == (row.path in first_page), row.path
        assert row.section_page == first_page.get(row.path), row.path


@pytest.mark.parametrize("site", SITES)
def test_article_pages_carry_the_manifest_metadata(sample: SiteServers, site: str) -> None:
    for row in entries(site):
        if row.kind == "missing":
            assert fetch(sample[site] + row.path).status == 404
            continue
        page = parse_html(fetch(sample[site] + row.path))
        assert page.get("lang", "").startswith(row.lang)
        assert page.xpath("string(//h1)").strip() == row.title
        if row.kind == "not-article":
            continue
        assert page.xpath("string(//meta[@property='og:title']/@content)") == row.title
        assert row.published in _published_dates(page), row.path


def _published_dates(page: lxml.html.HtmlElement) -> set[str]:
    dates = set(page.xpath("//meta[@property='article:published_time']/@content"))
    for script in page.xpath("//script[@type='application/ld+json']/text()"):
        data = json.loads(script)
        for node in data.get("@graph", [data]):
            if "datePublished" in node:
                dates.add(node["datePublished"])
    return dates


def _copied_share(page_paragraphs: list[str], seed_text: str) -> float:
    """Share of the article's characters found verbatim in one seed file."""
    seed = " ".join(seed_text.split())
    total = sum(len(p) for p in page_paragraphs)
    return sum(len(p) for p in page_paragraphs if p in seed) / total


@pytest.mark.parametrize("site", SITES)
def test_copy_of_seed_is_true_exactly_for_the_copies(sample: SiteServers, site: str) -> None:
    seeds = {path.name: path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt")}
    for row in entries(site):
        if row.kind in ("missing", "not-article"):
            continue
        page = parse_html(fetch(sample[site] + row.path))
        paragraphs = [" ".join(p.text_content().split()) for p in page.xpath(BODY_XPATH[site])]
        shares = {name: _copied_share(paragraphs, text) for name, text in seeds.items()}
        copied = {name for name, share in shares.items() if share > 0.5}
        assert copied == ({row.copy_of_seed} if row.copy_of_seed else set()), row.path


def test_manifest_covers_what_crawl_tests_need() -> None:
    rows = [row for site in SITES for row in entries(site)]
    articles = [r for r in rows if r.kind not in ("not-article", "missing")]
    assert all(r.listed_in for r in rows)
    assert [r.kind for r in rows].count("missing") == 1
    assert {(site, r.copy_of_seed) for site in SITES for r in entries(site) if r.copy_of_seed} == {
        ("bladi", "001_62e89c347e542044.txt"),
        ("bladna", "004_7ce244e322db8053.txt"),
        ("trends", "003_644d7ec9ad0a14b6.txt"),
    }
    assert any(r.listed_in == ("section",) and r.section_page == 2 for r in articles)
    assert any(r.listed_in == ("sitemap",) for r in articles)
    assert all("2025-01-01" <= (r.published or "")[:10] <= "2026-11-21" for r in articles)
    assert all(r.relevant == (r.kind == "relevant") for r in rows)


@pytest.mark.parametrize("root", [DEMO_DIR, HOLDOUT_DIR, SYNDICATION_DIR], ids=lambda p: p.name)
def test_every_sample_set_follows_the_one_manifest_schema(root: Path) -> None:
    manifest = load_manifest(root)
    assert isinstance(manifest, Manifest) and len(manifest) >= 3
    raw = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    paths = {f"{site.name}:{a.path}" for site, a in manifest.articles()}
    keys = {f.name for f in dataclasses.fields(SampleArticle)}
    assert all(set(a) == keys for spec in raw.values() for a in spec["articles"])  # all explicit
    for site, article in manifest.articles():
        folder = root / site.name
        found = file_for_target(folder, article.path)
        assert (found is None) == (article.expect == "missing"), (site.name, article.path)
        assert article.copy_of is None or article.copy_of in paths
        if article.copy_of_seed:
            assert (SEEDS / article.copy_of_seed).is_file()
    for site in manifest.values():
        assert site.source.title and site.source.start_urls or site.source.feeds
        for target in [*site.source.feeds, *site.source.sitemaps, *site.source.start_urls]:
            assert file_for_target(root / site.name, target) is not None, (site.name, target)
