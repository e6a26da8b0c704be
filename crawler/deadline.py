"""Time bounds of a crawl: a source's own budget and the pass deadline.

A source's crawl is closed after ``[crawl] source_timeout_minutes`` (the spider starts
its timer, :func:`start_budget`), and every crawl still open at ``[crawl]
pass_timeout_minutes`` is closed then (``crawler/passes.py``). Both close it with
:func:`stop_crawl`.

Scrapy's own ``CLOSESPIDER_TIMEOUT`` is not enough against a tarpit: closing waits for
every request already handed to the downloader, and up to ``CONCURRENT_REQUESTS`` of them
wait in its queue for their turn at a site answering once in a while, each costing up to
``DOWNLOAD_TIMEOUT``. :func:`stop_crawl` drops those queued requests as it closes the
crawl, so a closed crawl waits at most for the few requests in transfer (at most
``[crawl] concurrent_per_domain`` per site, each bounded by ``[crawl] timeout``). What was
fetched is stored; what is not waits for the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

SOURCE_TIMEOUT_SETTING = "NEWSWATCH_SOURCE_TIMEOUT"  # seconds, from [crawl]
SOURCE_TIMEOUT = "source_timeout"  # the close reasons, read back in crawler/stats.py
PASS_TIMEOUT = "pass_timeout"

log = logging.getLogger(__name__)


def later(seconds: float, call: Callable[..., object], *args: Any) -> Deferred[object]:
    """Call ``call(*args)`` in ``seconds``; cancel the result to call it off."""
    from twisted.internet import reactor  # installed by Scrapy by the time this runs

    timer: Deferred[object] = deferLater(reactor, seconds, call, *args)
    timer.addErrback(_called_off)
    return timer


def start_budget(crawler: Crawler, name: str) -> Deferred[object] | None:
    """The source's own time budget, from when its crawl starts (None: no budget)."""
    seconds = crawler.settings.getfloat(SOURCE_TIMEOUT_SETTING)
    if seconds <= 0:
        return None
    message = (
        f"{name}: stopped after its time budget ([crawl] source_timeout_minutes ="
        f" {seconds / 60:g}); the rest waits for the next pass"
    )
    return later(seconds, stop_crawl, crawler, SOURCE_TIMEOUT, message)


def stop_crawl(crawler: Crawler, reason: str, message: str | None) -> None:
    """Close a crawl still open now, dropping the requests queued in its downloader;
    ``message`` is the one warning it costs (None: the caller reports it)."""
    engine, spider = crawler.engine, crawler.spider
    if not crawler.crawling or engine is None or spider is None:
        return
    if getattr(spider, "stopping", None) is not None:
        return  # already being stopped (a source budget and the deadline at once)
    setattr(spider, "stopping", reason)  # noqa: B010  its errbacks ignore what is dropped
    if message:
        log.warning("%s", message)
    # Closing first: the engine hands the downloader nothing more from here on.
    closing = deferred_from_coro(engine.close_spider_async(reason=reason))
    closing.addErrback(_close_failed)
    dropped = 0
    for slot in list(engine.downloader.slots.values()):
        while slot.queue:
            _, waiting = slot.queue.popleft()
            waiting.errback(IgnoreRequest(f"crawl closed ({reason})"))
            dropped += 1
    if dropped and crawler.stats is not None:
        # Scrapy counted them on their way to the queue; they were never sent.
        crawler.stats.inc_value("downloader/request_count", -dropped)


def _called_off(failure: Failure) -> Failure | None:
    """The timer's own cancellation, when the crawl ends before it, is no error."""
    return None if isinstance(failure.value, CancelledError) else failure


def _close_failed(failure: Failure) -> None:
    log.error("could not close a crawl in time: %s", failure.getErrorMessage())
