"""Name what went wrong with a request in the words of the source-health counters."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure


def error_kind(failure: Failure) -> str:
    """A short counter name: ``http_404``, ``dns``, ``refused``, ``timeout``, ``robots`` ..."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(DNSLookupError):
        return "dns"
    if failure.check(ConnectionRefusedError):
        return "refused"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "timeout"
    if failure.check(IgnoreRequest):
        return "robots" if "robots" in str(failure.value).lower() else "ignored"
    name = type(failure.value).__name__
    return "too_large" if "MaxSize" in name or "size" in str(failure.value).lower() else "other"
