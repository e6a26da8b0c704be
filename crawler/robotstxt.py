"""Scrapy's robots.txt middleware, with an unreachable robots.txt said in one line.

When robots.txt cannot be downloaded (a site down, a closed port, a server that never
answers), Scrapy's ``RobotsTxtMiddleware`` logs an ERROR with the whole chained traceback
of the download, on every pass, and then crawls as if robots.txt allowed everything. A
site that is down is an ordinary event: :class:`RobotsTxtMiddleware` here logs one WARNING
naming the robots.txt URL and the cause, and the traceback at DEBUG (``--verbose`` with
``LOG_LEVEL=DEBUG``). What is obeyed does not change.

robots.txt itself is fetched once, not retried: when it cannot be read Scrapy crawls as if
it allowed everything, so retrying it would only make a site that is down cost three
timeouts more per pass (the pages themselves are retried as usual). Enabled in
``crawler/settings.py`` in place of Scrapy's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt as scrapy_robotstxt
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from crawler.discovery import robots_url
from crawler.errors import describe_kind, error_kind

log = logging.getLogger(__name__)


class RobotsTxtMiddleware(scrapy_robotstxt.RobotsTxtMiddleware):
    """Scrapy's middleware; its download errors pass through :class:`OneLineErrors`."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # Scrapy logs the error inside its own coroutine, on its module's logger: the
        # filter rewrites that record (and only it). Added once per process.
        scrapy_log = logging.getLogger(scrapy_robotstxt.__name__)
        if not any(isinstance(f, OneLineErrors) for f in scrapy_log.filters):
            scrapy_log.addFilter(OneLineErrors())

    def process_request(self, request: Request, spider: Any = None) -> Any:
        if request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == (
            "/robots.txt"
        ):
            request.meta.setdefault("dont_retry", True)  # our own robots.txt request
        # Scrapy < 2.14 passes the spider, later versions do not.
        if spider is None:
            return super().process_request(request)
        return super().process_request(request, spider)


class OneLineErrors(logging.Filter):
    """Turns "Error downloading <request>" with a traceback into one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not str(record.msg).startswith("Error downloading"):
            return True
        error = record.exc_info[1]
        args = record.args if isinstance(record.args, Mapping) else {}
        request = args.get("request")
        where = robots_url(request.url) if isinstance(request, Request) else "robots.txt"
        log.debug("%s: download failed", where, exc_info=record.exc_info)
        record.msg = "%s: cannot read robots.txt: %s; crawling as if it allowed everything"
        record.args = (where, _cause(error))
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        return True


def _cause(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    kind = error_kind(Failure(error))  # type: ignore[no-untyped-call]
    if kind in ("other", "download"):
        return f"{type(error).__name__}: {error}".rstrip(": ")
    return describe_kind(kind)
