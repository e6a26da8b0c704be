"""Name what went wrong with a request in the words of the source-health counters."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
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
    for kind, types in _KINDS:
        if isinstance(error, types):
            return kind
    if isinstance(error, IgnoreRequest):
        return "robots" if "robots" in str(error).lower() else "ignored"
    text = str(error).lower()
    if "maxsize" in text.replace(" ", "") or "max size" in text or "warnsize" in text:
        return "too_large"
    return "download" if isinstance(error, DownloadFailedError) else "other"


_DESCRIPTIONS = {
    "dns": "the host name does not resolve",
    "refused": "connection refused (is the server up, is the port right?)",
    "timeout": "no answer in time ([crawl] timeout)",
    "data_loss": "the connection broke before the whole page arrived",
    "robots": "forbidden by the site's robots.txt",
    "too_large": "larger than Scrapy's DOWNLOAD_MAXSIZE",
}


def describe_kind(kind: str) -> str:
    """The error kind in words for a person: ``http_404`` -> ``HTTP 404``."""
    if kind.startswith("http_"):
        return f"HTTP {kind[5:]}"
    return _DESCRIPTIONS.get(kind, kind)
