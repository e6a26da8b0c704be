"""Downloader middleware: retries that wait as long as the site asks them to.

Scrapy's RetryMiddleware retries a 429 or a 503 at once, which is what a site that sent
``Retry-After: 30`` asked us not to do. This one waits for the delay the site named (in
seconds or as an HTTP date), capped by ``NEWSWATCH_RETRY_AFTER_MAX`` so that one site
cannot hold a pass for an hour, and then lets Scrapy's retry logic decide as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawler.stats import Stat
from pipelines.defaults import RETRY_AFTER_MAX

_HONOURED = (429, 503)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The delay a ``Retry-After`` header asks for, or None when it says nothing usable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings, max_wait: float = RETRY_AFTER_MAX) -> None:
        super().__init__(settings)
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        o = cls(
            crawler.settings,
            crawler.settings.getfloat("NEWSWATCH_RETRY_AFTER_MAX", RETRY_AFTER_MAX),
        )
        o.crawler = crawler
        return o

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if response.status in _HONOURED and not request.meta.get("dont_retry", False):
            header = response.headers.get(b"Retry-After")
            wait = retry_after_seconds(header.decode("latin-1") if header else None)
            if (
                wait is not None
                and response.status in self.retry_http_codes
                and self._will_retry(request)
            ):
                wait = min(wait, self.max_wait)
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value(Stat.RETRY_AFTER_WAITED)
                if wait > 0:
                    # Imported here: importing the reactor at module level would install
                    # Twisted's default one before Scrapy installs the one it is set to use.
                    from twisted.internet import reactor

                    await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return super().process_response(request, response)

    def _will_retry(self, request: Request) -> bool:
        """Whether Scrapy retries this request once more: no wait on its last attempt."""
        limit = request.meta.get("max_retry_times", self.max_retry_times)
        return int(request.meta.get("retry_times", 0)) < int(limit)
