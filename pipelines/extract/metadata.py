"""What a page says about itself: publication date, language.

trafilatura (through htmldate) already finds a date, but it cannot tell us *where* the
date came from, and a date that a publisher declares for the article itself (JSON-LD
``datePublished``, OpenGraph ``article:published_time``) is more trustworthy than one that
htmldate guesses from the visible page. So the declared sources are read here first, each
in a small function, and `choose_published` applies one rule to every candidate: no date
after the moment the page was fetched.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement
from py3langid.langid import LanguageIdentifier

from pipelines.extract.langmodel import load_identifier, unmap_pages

# schema.org types whose datePublished is the article's own date. Every "...NewsArticle"
# subtype (Reportage, Analysis, Opinion, ...) counts too. WebPage and WebSite do not:
# they describe the page or the whole site, and their dates need not be the article's.
ARTICLE_TYPES = frozenset({"Article", "NewsArticle", "BlogPosting", "LiveBlogPosting", "Report"})

# <meta> elements that carry the publication date, as (attribute, value) pairs, best first.
DATE_METAS = (
    ("property", "article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "article:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("name", "dc.date.issued"),
)

# No news site published before this; an earlier date is a CMS placeholder (0001-01-01,
# 1970-01-01) rather than a fact.
EARLIEST_DATE = date(1990, 1, 1)

# A date without a time zone may be local time anywhere from UTC-12 to UTC+14, so an
# article dated "tomorrow" in UTC can be today in Kiribati. Allow that much, no more.
LOCAL_TIME_SLACK = timedelta(hours=14)

# Language detection below this many characters of text, or below this probability, is
# a guess: better to trust the page's declaration or the source's configured language.
MIN_DETECT_CHARS = 200
MIN_DETECT_CONFIDENCE = 0.9
# Detection reads the first this many characters only: its cost grows with the text (2.5 ms
# for 5,000 characters, 1.4 ms for 1,500), and on the real pages 1,500 characters give the
# same answers as 5,000.
DETECT_SAMPLE_CHARS = 1500

# Old ISO 639-1 codes still found in <html lang>, mapped to the current ones.
LEGACY_LANGS = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}

_LANG_RE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]{1,8})*$")


def parse_datetime(value: str) -> datetime | date | None:
    """Read an ISO 8601 or RFC 2822 date, as found in JSON-LD, <meta> and feeds.

    A date-only value stays a `date`: inventing midnight would claim a precision
    the source does not have.
    """
    value = value.strip()
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def latest_allowed(fetched_at: str | None, now: datetime | None = None) -> datetime:
    """The latest moment a publication date may name: when the page was fetched.

    Never later than now, even if the fetch time says so (a skewed clock elsewhere).
    """
    now = now or datetime.now(UTC)
    parsed = parse_datetime(fetched_at) if fetched_at else None
    if isinstance(parsed, datetime):
        return min(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), now)
    return now


def plausible_date(value: str, limit: datetime) -> str | None:
    """`value` normalised to ISO 8601 if it is a real date no later than `limit`."""
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is not None:
            too_late = parsed > limit
        else:
            too_late = parsed > (limit + LOCAL_TIME_SLACK).replace(tzinfo=None)
        day = parsed.date()
    else:
        too_late = parsed > (limit + LOCAL_TIME_SLACK).date()
        day = parsed
    if too_late or day < EARLIEST_DATE:
        return None
    return parsed.isoformat()


def choose_published(
    candidates: Iterable[tuple[str, str | None]], limit: datetime
) -> tuple[str | None, str | None]:
    """The first plausible date among (source, value) pairs, and the source that gave it."""
    for source, value in candidates:
        if value:
            normalised = plausible_date(value, limit)
            if normalised:
                return normalised, source
    return None, None


def jsonld_published(tree: HtmlElement) -> str | None:
    """`datePublished` of the first Article-like JSON-LD object (never `dateModified`)."""
    return _jsonld_article_field(tree, "datePublished")


def jsonld_headline(tree: HtmlElement) -> str | None:
    """`headline` of the first Article-like JSON-LD object: the title without the site name."""
    return _jsonld_article_field(tree, "headline")


# The JSON-LD of the last tree read: the title, the date, the article gate and the fallback
# body all ask for it, and a page's scripts are parsed once (one tree at a time per process).
_jsonld_cache: tuple[HtmlElement, list[Any]] | None = None


def jsonld_documents(tree: HtmlElement) -> list[Any]:
    """The parsed ``application/ld+json`` scripts of the page, in order (broken ones left
    out); parsed once per tree."""
    global _jsonld_cache
    if _jsonld_cache is not None and _jsonld_cache[0] is tree:
        return _jsonld_cache[1]
    documents = []
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            documents.append(json.loads(script.text or "", strict=False))
        except (ValueError, RecursionError):  # broken, or nested deep enough to hurt
            continue
    _jsonld_cache = (tree, documents)
    return documents


def _jsonld_article_field(tree: HtmlElement, name: str) -> str | None:
    for data in jsonld_documents(tree):
        for node in _jsonld_nodes(data):
            if _is_article_type(node.get("@type")):
                value = node.get(name)
                if isinstance(value, str) and value.strip():
                    # CMSs write their HTML-escaped titles into JSON-LD as they are:
                    # "&#8220;We needed to win this&nbsp;game&#8221;".
                    return " ".join(html.unescape(value).split())
    return None


def declares_one_article(tree: HtmlElement) -> bool:
    """Whether the page says of itself that it is one article, with a publication date.

    Only page-level statements count: OpenGraph's ``article:published_time`` in the head,
    or a top-level (or ``@graph``) JSON-LD Article with ``datePublished``. A listing may
    nest NewsArticle objects in an ItemList or carry microdata dates in its teasers, and
    some templates write ``og:type`` = article on every page; none of the section, tag or
    author pages in the tests says more than that.
    """
    for meta in tree.iterfind(".//head/meta[@property='article:published_time']"):
        if (meta.get("content") or "").strip():
            return True
    for data in jsonld_documents(tree):
        for node in _page_level_nodes(data):
            if _is_article_type(node.get("@type")) and node.get("datePublished"):
                return True
    return False


def _page_level_nodes(data: Any) -> Iterator[dict[str, Any]]:
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                yield from (node for node in graph if isinstance(node, dict))


def choose_title(candidates: list[str | None], site: str | None) -> str | None:
    """The first title given, without a trailing " | Site name" that <title> tags carry."""
    title = next((c.strip() for c in candidates if c and c.strip()), None)
    if title is None or not site:
        return title
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head.strip() and _same_name(tail, site):
            return head.strip()
    return title


def _same_name(a: str, b: str) -> bool:
    def fold(x: str) -> str:
        return "".join(ch for ch in x.casefold() if ch.isalnum())

    return bool(fold(a)) and fold(a) == fold(b)


_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " » ")


def _jsonld_nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document: top level, lists, `@graph`, nested values."""
    if depth > 8:  # real documents nest 3 or 4 deep; this bounds hostile input
        return
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, (dict, list)):
                yield from _jsonld_nodes(value, depth + 1)


def _is_article_type(value: Any) -> bool:
    types = value if isinstance(value, list) else [value]
    return any(
        isinstance(t, str) and (t in ARTICLE_TYPES or t.endswith("NewsArticle")) for t in types
    )


def meta_published(tree: HtmlElement) -> str | None:
    """The publication date declared in a <meta> element (OpenGraph and its cousins)."""
    metas: dict[tuple[str, str], str] = {}
    for meta in tree.iterfind(".//meta[@content]"):
        for attribute in ("property", "itemprop", "name"):
            key = (meta.get(attribute) or "").strip().lower()
            if key:
                metas.setdefault((attribute, key), meta.get("content") or "")
    for attribute, key in DATE_METAS:
        value = metas.get((attribute, key.lower()), "").strip()
        if value:
            return value
    return None


def canonical_link(tree: HtmlElement, url: str) -> str | None:
    """The page's own ``<link rel="canonical">`` in its head, made absolute (against its
    ``<base href>``, else ``url``)."""
    for link in tree.iterfind(".//head/link[@href]"):
        if "canonical" in (link.get("rel") or "").split():
            href = (link.get("href") or "").strip()
            if not href:
                return None
            base = tree.find(".//head/base[@href]")
            root = urljoin(url, str(base.get("href", ""))) if base is not None else url
            return str(urljoin(root, href))
    return None


def normalise_lang(value: str | None) -> str | None:
    """The ISO 639-1 code in a language tag ("fr-FR", "nl_NL", "EN"), else None."""
    match = _LANG_RE.match((value or "").strip())
    if not match:
        return None
    code = match.group(1).lower()
    return LEGACY_LANGS.get(code, code)


def declared_lang(tree: HtmlElement) -> str | None:
    """The language the page declares: <html lang>, then og:locale, then Content-Language."""
    root = tree.getroottree().getroot()
    declared = [root.get("lang"), root.get("xml:lang")]
    for meta in tree.iterfind(".//meta[@content]"):
        key = (meta.get("property") or meta.get("http-equiv") or "").strip().lower()
        if key in ("og:locale", "content-language"):
            declared.append(meta.get("content"))
    for value in declared:
        code = normalise_lang(value)
        if code:
            return code
    return None


def detect_lang(text: str) -> str | None:
    """The text's language when py3langid is confident and the text is long enough."""
    if len(text) < MIN_DETECT_CHARS:
        return None
    code, probability = _identifier().classify(text[:DETECT_SAMPLE_CHARS])
    if probability < MIN_DETECT_CONFIDENCE:
        return None
    return normalise_lang(str(code))


def choose_lang(declared: str | None, text: str, configured: str | None) -> str | None:
    """Declared language unless the text clearly says otherwise; else detected; else config.

    Site templates often hard-code one <html lang> for every language edition, so a
    confident detection on a long text wins over the declaration.
    """
    detected = detect_lang(text)
    return detected or declared or normalise_lang(configured)


def warm_up() -> None:
    """Load the language model now (a pool worker does, before its first page)."""
    _identifier()


def release_model() -> None:
    """Unmap the pages of the language model this process read (the forkserver, after
    its warm-up); they stay cached for the processes that read them next."""
    unmap_pages(_identifier())


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's model, loaded once per process on first use, not at import (from
    newswatch's cached copy: pipelines/extract/langmodel.py)."""
    return load_identifier()
