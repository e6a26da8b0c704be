"""Name what went wrong with a request in the words of the source-health counters."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.download import HeadersTooLarge
from crawler.guard import TargetRefused
from crawler.redirects import RedirectRefused

# Scrapy >= 2.14 wraps Twisted's errors in its own; both are checked so either works.
_KINDS: list[tuple[str, tuple[type[BaseException], ...]]] = [
    ("dns", (CannotResolveHostError, DNSLookupError)),
    ("refused", (DownloadConnectionRefusedError, ConnectionRefusedError)),
    ("timeout", (DownloadTimeoutError, TimeoutError, TCPTimedOutError)),
    ("data_loss", (ResponseDataLossError,)),
]


def error_kind(failure: Failure) -> str:
    """A short counter name: ``http_404``, ``dns``, ``refused``, ``timeout``, ``robots`` ..."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"http_{error.response.status}"
    if isinstance(error, TargetRefused):
        return error.kind  # refused_private, offsite
    if isinstance(error, HeadersTooLarge):
        return "headers_too_large"
    for kind, types in _KINDS:
        if isinstance(error, types):
            return kind
    if isinstance(error, RedirectRefused):
        return error.kind  # redirect_unsafe, redirect_self, redirect_loop
    text = str(error).lower()
    if isinstance(error, IgnoreRequest):
        return _ignored_kind(text)
    if "maxsize" in text.replace(" ", "") or "max size" in text or "warnsize" in text:
        return "too_large"
    # Scrapy cancels a download whose body grows past DOWNLOAD_MAXSIZE with no message
    # (an announced Content-Length over it says so, above); nothing else cancels one.
    if isinstance(error, DownloadCancelledError):
        return "too_large"
    return "download" if isinstance(error, DownloadFailedError) else "other"


def _ignored_kind(text: str) -> str:
    """Scrapy's middlewares drop requests with IgnoreRequest; its message tells which."""
    if "robots" in text:
        return "robots"
    if "decompression" in text:  # HttpCompressionMiddleware: past DOWNLOAD_MAXSIZE unpacked
        return "decompression_bomb"
    if "max redirections" in text:  # RedirectMiddleware: past REDIRECT_MAX_TIMES
        return "redirect_loop"
    return "ignored"


def already_logged(failure: Failure) -> bool:
    """A refusal the guard (``crawler/guard.py``) has logged in one line already."""
    return isinstance(failure.value, TargetRefused)


_DESCRIPTIONS = {
    "dns": "the host name does not resolve",
    "refused": "connection refused (is the server up, is the port right?)",
    "timeout": "no answer in time ([crawl] timeout)",
    "data_loss": "the connection broke before the whole page arrived",
    "robots": "forbidden by the site's robots.txt",
    "too_large": "larger than Scrapy's DOWNLOAD_MAXSIZE",
    "decompression_bomb": "unpacks to more than DOWNLOAD_MAXSIZE (a decompression bomb)",
    "redirect_loop": "a redirect loop (or more than REDIRECT_MAX_TIMES redirects)",
    "redirect_unsafe": "a redirect to a non-HTTP URL (file:, data:, ...), not followed",
    "redirect_self": "the page redirects to itself",
    "url_too_long": "a URL longer than newswatch's cap",
    "refused_private": "refused: private address ([crawl] allow_private_targets)",
    "offsite": "refused: outside the source's allowed_domains",
    "headers_too_large": "response headers too large (NEWSWATCH_MAX_HEADER_BYTES)",
    "extract_timeout": "extraction ran past [crawl] extract_timeout; the page was skipped",
    "extract_crashed": "the page crashed its extraction worker; the page was skipped",
    "crawl_failed": "the crawl could not run (its spider or a middleware failed to start)",
}


def describe_kind(kind: str) -> str:
    """The error kind in words for a person: ``http_404`` -> ``HTTP 404``."""
    if kind.startswith("http_"):
        return f"HTTP {kind[5:]}"
    return _DESCRIPTIONS.get(kind, kind)
