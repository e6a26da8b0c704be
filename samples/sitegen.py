"""A generated news site of any size, for crawl tests and benchmarks on 127.0.0.1.

The bundled sample sites hold a dozen articles each; measuring what an incremental pass
saves needs thousands, and tests need to add articles between passes. This writes a site
in the localserver's layout (absolute URLs as ``{{base}}``): robots.txt with a
``Sitemap:`` line, an RSS 2.0 feed of the latest articles, a sitemap index of Google News
sitemaps (oldest first, so that adding articles changes only the last one), paginated
section pages (newest first) and the article pages. Every article has its own words, so
that none is a near-duplicate of another.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from samples.manifest import Manifest, SampleSource, Site

ARTICLE_PATTERN = r"/news/\d{4}/\d\d/story-"
_VOCABULARY = (
    "minister council harbour railway budget festival season market river village school"
    " hospital museum bridge province governor mayor election parliament committee report"
    " farmers harvest water drought storm coast fishing tourism airport airline engineers"
    " students teachers football stadium concert theatre library archive museum painter"
    " writer novel poetry cinema director journalist editor newspaper radio television"
    " industry factory workers union salary pension inflation currency export import port"
    " container shipping highway tunnel energy solar wind nuclear gas pipeline refinery"
    " mining phosphate copper gold silver bank credit loan investor startup software"
    " network mobile internet court judge lawyer police prison reform protest strike"
    " agreement treaty summit delegation embassy consulate visa border migration diaspora"
    " heritage mosque synagogue church cathedral medina souk garden palace fortress desert"
    " mountain valley forest lake island beach weather forecast rainfall temperature"
)
_WORDS = tuple(_VOCABULARY.split())
EPOCH = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # article 0; article i is i hours newer


@dataclass(frozen=True)
class SiteShape:
    feed_items: int = 50
    sitemap_chunk: int = 1000
    section_page_size: int = 20
    section_pages: int = 5  # pages written; the crawl's follow_depth decides how many count


def generated_manifest(root: Path, name: str = "gen", *, follow_depth: int = 10) -> Manifest:
    """A manifest for the generated site ``root/name``, for ``samples.manifest.write_config``.

    Its source reads the feed and the section pages; the articles are not listed (their
    number is the caller's): ``article_path`` and ``published`` say what each one is.
    """
    source = SampleSource(
        title="Generated News",
        feeds=("/feed.xml",),
        start_urls=("/news/",),
        article_pattern=ARTICLE_PATTERN,
        follow_depth=follow_depth,
    )
    site = Site(
        name=name,
        title="Generated News",
        lang="en",
        source=source,
        feeds=("/feed.xml",),
        sitemaps=("/sitemap_index.xml",),
        section_pages=("/news/",),
    )
    return Manifest(root, {name: site})


def article_path(i: int) -> str:
    return f"/news/{published(i):%Y/%m}/story-{i:05d}-{_slug(i)}.html"


def published(i: int) -> datetime:
    return EPOCH + timedelta(hours=i)


def article_title(i: int) -> str:
    words = _words(i, 6, salt=7)
    return f"Story {i}: " + " ".join(words).capitalize()


def write_site(folder: Path, count: int, shape: SiteShape | None = None) -> None:
    """Write a site of ``count`` articles, numbered 0 (the oldest) to ``count - 1``.

    Called again with a larger ``count``, it adds the new articles and rewrites only the
    listings that change; an article keeps its URL as the site grows.
    """
    shape = shape or SiteShape()
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(range(count))
    for i in ids:
        page = folder / article_path(i).lstrip("/")
        if not page.exists():
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(article_html(i), encoding="utf-8")
    (folder / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\n\nSitemap: {{base}}/sitemap_index.xml\n",
        encoding="utf-8",
    )
    newest = list(reversed(ids))
    _write(folder / "feed.xml", _feed(newest[: shape.feed_items]))
    chunks = [ids[k : k + shape.sitemap_chunk] for k in range(0, count, shape.sitemap_chunk)]
    for n, chunk in enumerate(chunks, 1):
        _write(folder / f"news-sitemap-{n}.xml", _news_sitemap(chunk))
    _write(folder / "sitemap_index.xml", _index(len(chunks)))
    size = shape.section_page_size
    for p in range(shape.section_pages):
        links = newest[p * size : (p + 1) * size]
        name = "news/index.html" if p == 0 else f"news/page/{p + 1}/index.html"
        last = (p + 1) * size >= count or p + 1 == shape.section_pages
        _write(folder / name, _section(links, p + 1, last))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _words(i: int, n: int, salt: int = 0) -> list[str]:
    rng = random.Random(i * 7919 + salt)
    return [rng.choice(_WORDS) for _ in range(n)]


def _slug(i: int) -> str:
    return "-".join(_words(i, 4, salt=3))


def _text(i: int) -> list[str]:
    rng = random.Random(i)
    paragraphs = []
    for _ in range(5):
        sentences = []
        for _ in range(4):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 16))]
            sentences.append(" ".join(words).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return paragraphs


def article_html(key: int, *, dated: bool = True) -> str:
    """Article ``key``'s page; ``dated=False`` leaves out every date (a feed must tell)."""
    title = escape(article_title(key))
    body = "\n".join(f"<p>{escape(p)}</p>" for p in _text(key))
    when = published(key).isoformat()
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{title} - Generated News</title>\n"
        f'<link rel="canonical" href="{{{{base}}}}{article_path(key)}">\n'
        + (f'<meta property="article:published_time" content="{when}">\n' if dated else "")
        + '</head><body><nav><a href="{{base}}/">Home</a> <a href="{{base}}/news/">News</a></nav>\n'
        f"<article><h1>{title}</h1>\n{body}\n</article>\n"
        "<footer>Generated News, a site for tests.</footer></body></html>\n"
    )


def _feed(ids: list[int]) -> str:
    items = "".join(
        f"<item><title>{escape(article_title(i))}</title>"
        f"<link>{{{{base}}}}{article_path(i)}</link>"
        f"<pubDate>{format_datetime(published(i))}</pubDate></item>\n"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Generated News</title><link>{{base}}/</link>"
        f"<description>Latest</description>\n{items}</channel></rss>\n"
    )


def _news_sitemap(ids: list[int]) -> str:
    urls = "".join(
        f"<url><loc>{{{{base}}}}{article_path(i)}</loc><news:news><news:publication>"
        "<news:name>Generated News</news:name><news:language>en</news:language>"
        "</news:publication>"
        f"<news:publication_date>{published(i).isoformat()}</news:publication_date>"
        f"<news:title>{escape(article_title(i))}</news:title></news:news></url>\n"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        f"{urls}</urlset>\n"
    )


def _index(chunks: int) -> str:
    entries = "".join(
        f"<sitemap><loc>{{{{base}}}}/news-sitemap-{n}.xml</loc></sitemap>\n"
        for n in range(1, chunks + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    )


def _section(ids: list[int], page: int, last: bool) -> str:
    links = "".join(
        f'<li><a href="{{{{base}}}}{article_path(i)}">{escape(article_title(i))}</a></li>\n'
        for i in ids
    )
    nxt = "" if last else f'<a rel="next" href="{{{{base}}}}/news/page/{page + 1}/">Next</a>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>News - page {page}</title>"
        '<link rel="alternate" type="application/rss+xml" href="{{base}}/feed.xml">'
        f"</head><body>\n<ul>\n{links}</ul>\n{nxt}\n"
        "</body></html>\n"
    )
