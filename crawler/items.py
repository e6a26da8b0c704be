"""What the spider hands to the item pipeline: a fetched page, not yet judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Request, TextResponse
from w3lib.encoding import http_content_type_encoding


@dataclass
class PageItem:
    url: str
    final_url: str
    body: bytes
    source: str
    found_via: str
    encoding: str | None = None
    status: int = 200
    hints: dict[str, Any] = field(default_factory=dict)  # feed_title, feed_published, lang


def article_item(response: TextResponse, source: str, lang: str | None) -> PageItem:
    """A fetched article page with what discovery knew of it (its request's ``nw_*`` meta)."""
    hints = response.meta["nw_hints"]
    return PageItem(
        url=response.meta["nw_url"],
        final_url=response.url,
        body=response.body,
        source=source,
        found_via=response.meta["nw_via"],
        # Only what the server declared: pipelines/extract/decode.py weighs it against
        # <meta charset> and the bytes (Scrapy's own guess would pass for a declaration).
        encoding=http_content_type_encoding(
            (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        ),
        status=response.status,
        # The page's <link rel="canonical"> is read where the page is parsed, with its text
        # (pipelines/extract): not here, on the crawl's thread, in a parse of its own.
        hints={**hints, "lang": hints.get("lang") or lang},
    )


def gone_item(request: Request, source: str, status: int) -> PageItem:
    """A page that answered 404/410, or redirects to itself (``status`` the redirect's):
    remembered, so the next pass does not ask again."""
    return PageItem(
        url=request.meta["nw_url"],
        final_url=request.url,
        body=b"",
        source=source,
        found_via=request.meta["nw_via"],
        status=status,
    )
