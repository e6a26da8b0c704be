"""Downloader middleware: name the redirects newswatch does not follow.

Scrapy's RedirectMiddleware returns a redirect to a ``file:``, ``data:`` or other non-HTTP
URL as the 3xx response itself (counted as ``http_302``), and hands a redirect to the same
URL back to the scheduler, whose duplicate filter drops it without a word. This middleware
sits just before it in the response chain and refuses both, under names a person can act
on: ``redirect_unsafe`` (a non-HTTP target), ``redirect_self`` (the page redirects to
itself) and ``redirect_loop`` (to a URL met earlier in the same chain; Scrapy's own
``REDIRECT_MAX_TIMES`` ends longer chains, named ``redirect_loop`` too by
``crawler/errors.py``).
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from w3lib.url import safe_url_string

_REDIRECTS = {301, 302, 303, 307, 308}


class RedirectRefused(IgnoreRequest):
    """A redirect newswatch does not follow; ``kind`` is its error counter name."""

    def __init__(self, kind: str, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status  # the redirect's HTTP status


class RedirectCheck:
    """Refuses non-HTTP, self and looping redirects before Scrapy follows them."""

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECTS or not location or request.meta.get("dont_redirect"):
            return response
        raw = location.decode("latin-1").strip()
        if raw.startswith("//"):
            raw = f"{urlsplit(request.url).scheme}:{raw}"
        target = urldefrag(urljoin(request.url, safe_url_string(raw)))[0]
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            shown = target if len(target) <= 80 else target[:77] + "..."
            raise RedirectRefused("redirect_unsafe", f"redirect to a non-HTTP URL ({shown})")
        here = urldefrag(request.url)[0]
        if target == here:
            raise RedirectRefused("redirect_self", "the page redirects to itself", response.status)
        chain = [urldefrag(u)[0] for u in request.meta.get("redirect_urls", [])]
        if target in chain:
            raise RedirectRefused(
                "redirect_loop", f"redirect loop ({len(chain) + 1} redirects back to {target})"
            )
        return response


class MetaRefreshCheck(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, without decoding every page to find none.

    Scrapy decodes the whole body (``response.text``) of each HTML response to look for a
    ``<meta http-equiv="refresh">``, about 0.3 ms a page; almost no news page has one (and
    a third of them say "refresh" somewhere in their scripts). A body with no tag in which
    "refresh" follows "http-equiv", in any case, cannot have one, unless its charset is not
    ASCII-compatible (UTF-16 or UTF-32: NUL bytes), which Scrapy then reads as before.
    Scrapy reads only the first 4,096 characters of the text (``get_meta_refresh``): the
    bytes they can be in (four per character at most, and a byte-order mark) are all that
    is searched, and all that is decoded for a page that may have one. Scrapy decoded the
    whole body, and the response kept that text (two to four bytes a character) for as
    long as its page waited for extraction: a news page that reloads itself every few
    minutes held ~1-3 MB more each, ~10 MB at times in a 10,000-page pass.
    """

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        body = response.body
        if not isinstance(response, HtmlResponse) or b"\x00" in body[:512]:
            return super().process_response(request, response)
        if not may_refresh(body):
            return response
        # Read in the charset the response was given or the page declares (its headers, a
        # byte-order mark, a <meta>: Scrapy's own reading, which decodes nothing), else in
        # the one the head guesses, as the whole body would be guessed. (Asking the
        # response for its ``encoding``, as ``response.replace`` does, decodes a whole body
        # that declares none, to guess it.) A Scrapy without that reading: the head reads
        # the declaration itself, from its headers and its first bytes.
        declared = getattr(response, "_declared_encoding", lambda: None)()
        head = HtmlResponse(
            url=response.url,
            status=response.status,
            headers=response.headers,
            body=body[: text_end(body, REFRESH_WINDOW)],
            request=response.request,
            encoding=declared,
        )
        found = super().process_response(request, head)
        return response if found is head else found


# The bytes that hold the first 4,096 characters Scrapy looks at, in any ASCII-compatible
# charset (UTF-8 and GB18030 take four bytes a character at most), and a byte-order mark.
REFRESH_WINDOW = 4 * 4096 + 4


def text_end(body: bytes, size: int) -> int:
    """Where to cut ``body`` at ``size`` bytes at most without splitting a UTF-8 character
    (a split one would make a body with no declared charset fail to decode as UTF-8)."""
    end = min(size, len(body))
    while 0 < end < len(body) and body[end] & 0xC0 == 0x80:  # a continuation byte
        end -= 1
    return end


def may_refresh(body: bytes) -> bool:
    """Whether some tag in the first REFRESH_WINDOW bytes of ``body`` has "refresh" after
    "http-equiv" (any case)."""
    low = body[:REFRESH_WINDOW].lower()
    at = low.find(b"http-equiv")
    while at >= 0:
        end = low.find(b">", at)
        if low.find(b"refresh", at, len(low) if end < 0 else end) >= 0:
            return True
        at = low.find(b"http-equiv", at + 10)
    return False
