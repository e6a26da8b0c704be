"""Scrapy's HTTP/1.1 download handler, with a bound on the size of a response's headers.

``DOWNLOAD_MAXSIZE`` bounds a response's body only. Twisted's response parser limits the
length of one header line, not how many lines come: a server that sends header lines
forever makes the crawl grow without bound. :class:`CappedHTTP11DownloadHandler` (enabled
for ``http`` and ``https`` in ``crawler/settings.py``) parses responses with a parser that
counts the bytes and lines of the status line and headers (informational 1xx responses
included) and drops the connection past ``NEWSWATCH_MAX_HEADER_BYTES`` bytes or
``NEWSWATCH_MAX_HEADER_LINES`` lines; the request then fails as ``headers_too_large``.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadFailedError
from scrapy.http import Request, Response
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress
from twisted.python.failure import Failure
from twisted.web._newclient import HTTP11ClientProtocol
from twisted.web.client import ResponseFailed
from twisted.web.iweb import IResponse

from crawler.http11 import (  # Scrapy's, imported faster
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from pipelines import defaults


class HeadersTooLarge(Exception):
    """A response whose status line and headers pass the configured bounds. Not retried:
    a server that does it once does it again."""


def caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """``error`` is ``kind``, or was raised from one (Scrapy wraps Twisted's errors; a
    ``ResponseFailed`` carries its reasons)."""
    seen: list[BaseException] = [error]
    for e in seen:
        if isinstance(e, kind):
            return True
        if len(seen) > 20:
            break
        if e.__cause__ is not None:
            seen.append(e.__cause__)
        if isinstance(e, ResponseFailed):
            seen += [r.value for r in e.reasons if isinstance(r, Failure) and r.value]
    return False


class _CappedParser(_LenientHTTPClientParser):
    """Counts header bytes and lines. Twisted's protocol creates its own parser and the
    protocol below swaps its class (as Scrapy's does), so the counts live in ``__dict__``
    with defaults here, and the bounds on the class the handler makes."""

    max_bytes = defaults.MAX_HEADER_BYTES
    max_lines = defaults.MAX_HEADER_LINES
    _nw_bytes = 0
    _nw_lines = 0

    def lineReceived(self, line: bytes) -> None:
        self._nw_bytes += len(line) + 2
        self._nw_lines += 1
        if self._nw_bytes > self.max_bytes or self._nw_lines > self.max_lines:
            # Raised into HTTP11ClientProtocol.dataReceived, which drops the connection
            # and fails the response with this error.
            raise HeadersTooLarge(
                f"response headers over {self.max_bytes} bytes or {self.max_lines} lines"
            )
        super().lineReceived(line)


class _CappedProtocol(_LenientHTTP11ClientProtocol):
    parser_class: type[_CappedParser] = _CappedParser

    def request(self, request: Any) -> Deferred[IResponse]:
        d = super().request(request)
        assert self._parser is not None
        self._parser.__class__ = self.parser_class
        return d


class CappedHTTP11DownloadHandler(HTTP11DownloadHandler):
    """``HTTP11DownloadHandler`` whose connections parse responses with capped headers."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        parser: type[_CappedParser] = type(
            "CappedParser",
            (_CappedParser,),
            {
                "max_bytes": settings.getint(
                    "NEWSWATCH_MAX_HEADER_BYTES", defaults.MAX_HEADER_BYTES
                ),
                "max_lines": settings.getint(
                    "NEWSWATCH_MAX_HEADER_LINES", defaults.MAX_HEADER_LINES
                ),
            },
        )
        protocol: type[_CappedProtocol] = type(
            "CappedProtocol", (_CappedProtocol,), {"parser_class": parser}
        )

        class Factory(_LenientHTTP11ClientFactory):
            def buildProtocol(self, addr: IAddress | None) -> HTTP11ClientProtocol:
                return protocol(self._quiescentCallback)

        self._pool._factory = Factory
        self._header_bounds = f"{parser.max_bytes} bytes or {parser.max_lines} lines"

    async def download_request(self, request: Request) -> Response:
        try:
            return await super().download_request(request)
        except DownloadFailedError as exc:
            if caused_by(exc, HeadersTooLarge):
                raise HeadersTooLarge(
                    f"{request.url}: response headers over {self._header_bounds}"
                ) from None
            raise
