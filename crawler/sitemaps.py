"""Sitemaps and sitemap indexes, Google News sitemaps included.

Scrapy's own sitemap parser keeps only ``loc``/``lastmod``-like children and drops the
``news:`` elements, whose publication date and title are exactly what a monitor wants, so
the XML is read here with lxml (entities off, huge trees refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from scrapy.utils.gz import gunzip

NS_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


class SitemapError(ValueError):
    """The body is not a sitemap."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None
    news_title: str | None = None
    news_published: str | None = None
    news_language: str | None = None


@dataclass(frozen=True)
class Sitemap:
    kind: str  # "urlset" | "sitemapindex"
    entries: list[SitemapEntry]


def sitemap_xml(body: bytes, url: str, max_size: int) -> bytes:
    """The XML of a sitemap, gunzipped when it is served as a .gz file."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        return gunzip(body, max_size=max_size)
    except Exception as exc:  # corrupt gzip, or larger than max_size unpacked
        raise SitemapError(f"{url}: not a sitemap: bad gzip data ({exc})") from None


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body.strip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SitemapError(f"{url}: not a sitemap: {exc}") from None
    if root is None:
        raise SitemapError(f"{url}: not a sitemap: empty or unreadable XML")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url}: not a sitemap: root element is <{kind}>")
    child = "url" if kind == "urlset" else "sitemap"
    entries = [_entry(el) for el in root if _local(el) == child]
    return Sitemap(kind=kind, entries=[e for e in entries if e.url])


def listed_before(entry: SitemapEntry, moment: datetime) -> bool:
    """Whether the entry's news date (else its lastmod) is before ``moment`` (aware)."""
    stamp = entry.news_published or entry.lastmod
    if not stamp:
        return False
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False  # an unreadable date is no reason to skip an article
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) < moment


def _entry(el: etree._Element) -> SitemapEntry:
    fields: dict[str, str | None] = {}
    for sub in el:
        name = _local(sub)
        if name in ("loc", "lastmod"):
            fields[name] = (sub.text or "").strip() or None
        elif name == "news" and etree.QName(sub).namespace == NS_NEWS:
            fields.update(_news(sub))
    return SitemapEntry(
        url=fields.get("loc") or "",
        lastmod=fields.get("lastmod"),
        news_title=fields.get("title"),
        news_published=fields.get("publication_date"),
        news_language=fields.get("language"),
    )


def _news(el: etree._Element) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for sub in el.iter():
        name = _local(sub)
        if name in ("title", "publication_date", "language") and sub.text:
            out[name] = sub.text.strip()
    return out


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""
