"""Plain data passed between the stages. No behaviour beyond conversions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines import defaults


@dataclass(frozen=True)
class PageHints:
    """What discovery already knows about a page before it is extracted.

    A feed or a news sitemap often gives a title and a date; the source config gives a
    language. Extraction uses them only as fallbacks for what the page itself does not say.
    """

    feed_title: str | None = None
    feed_published: str | None = None  # ISO 8601 date or datetime
    lang: str | None = None  # the source's configured language
    fetched_at: str | None = None  # ISO 8601 datetime (UTC): no published date may be later
    found_via: str | None = None  # "sitemap" when the title and date came from a news sitemap


@dataclass(frozen=True)
class Article:
    """The result of extraction: what a page says, without its boilerplate."""

    url: str
    title: str | None
    text: str
    published: str | None = None  # ISO 8601 date ("2023-01-18") or datetime
    author: str | None = None
    lang: str | None = None  # ISO 639-1 code
    site: str | None = None  # the site's name, e.g. "Bladi.net"
    date_source: str | None = None  # where `published` came from: "html", "feed", ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """One topic that an article matched, and why."""

    topic: str
    score: float
    terms: dict[str, list[str]] = field(default_factory=dict)  # group name -> matched terms
    snippet: str = ""  # a short excerpt around the matched terms
    kind: str = "match"  # "match" (alerted) or "reaction" (context only; see docs/topics.md)
    why: str = ""  # one line: "Morocco + Israel + defence: Barak MX, FAR, IAI"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Page:
    """A fetched page as discovery hands it over: bytes, where they came from, and hints."""

    url: str  # the URL that was requested (after canonicalisation)
    final_url: str  # where redirects ended
    body: bytes
    source: str
    found_via: str = "link"  # "feed" | "sitemap" | "section" | "link"
    encoding: str | None = None  # the charset the HTTP response declared
    status: int = 200
    hints: PageHints = field(default_factory=PageHints)
    # The page's own <link rel="canonical">, as it said it. When it names a stored article
    # of the same site and the page carries that article's text, the page is that article.
    canonical_url: str | None = None


@dataclass(frozen=True)
class DedupRules:
    """When an article counts as a copy (``[dedup]``; see pipelines/dedup.py)."""

    threshold: float = defaults.DEDUP_THRESHOLD  # share of its own text found in one document
    min_shingles: int = defaults.DEDUP_MIN_SHINGLES  # fewer: only an exact copy is a copy
    max_document_frequency: int = defaults.DEDUP_MAX_DOCUMENT_FREQUENCY  # more: not evidence
