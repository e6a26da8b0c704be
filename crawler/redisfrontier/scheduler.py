"""The scheduler of a crawl on a shared frontier: articles through Redis, discovery in
this process; joining, heart-beating and leaving the source's workers."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter as LocalDupeFilter
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler.deadline import stop_crawl
from crawler.redisfrontier.connection import (
    BEAT_SCRIPT,
    BUSY_SCRIPT,
    HEARTBEAT_SECONDS,
    JOIN_SCRIPT,
    LEASE_SECONDS,
    LEAVE_SCRIPT,
    JsonSerializer,
    connect,
    describe,
    display_url,
    key_prefix,
)
from crawler.redisfrontier.queue import SharedQueue, UrlKeyFilter
from crawler.sources import config_from_settings
from crawler.stats import Stat, error_key
from pipelines.urls import url_key

if TYPE_CHECKING:
    from crawler.spiders.news import NewsSpider

log = logging.getLogger(__name__)

REDIS_FAILED = "redis_unavailable"  # the close reason of a crawl that lost its frontier
T = TypeVar("T")


class SharedScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis' scheduler for article requests; discovery stays in this process.

    A request with ``nw_url`` in its meta (an article, see ``crawler/articles.py``) goes to
    the source's Redis queue; feeds, sitemaps, section pages and robots.txt are queued
    here, in memory, and filtered within this crawl only, so every pass reads them again.
    A dry run (``newswatch sources check``) keeps everything here.
    """

    df: UrlKeyFilter
    queue: SharedQueue

    def __init__(self, crawler: Crawler, server: redis.Redis, url: str, prefix: str) -> None:
        super().__init__(
            server,
            persist=True,
            flush_on_start=False,
            queue_key=prefix.replace("%", "%%"),
            queue_cls="crawler.redisfrontier.SharedQueue",
            dupefilter=UrlKeyFilter(server, prefix + ":seen"),
            idle_before_close=0,
            serializer=JsonSerializer,
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = url
        self.prefix = prefix
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.local: deque[Request] = deque()
        self.local_df = LocalDupeFilter.from_crawler(crawler)
        self.shared = False  # set once the frontier is joined
        self.broken = False  # Redis failed: the crawl is being closed
        self.heartbeat: LoopingCall | None = None
        self.reported_failed: set[str] = set()
        self.url_error: ValueError | None = None
        self.seeded = False
        self.keys = {
            name: f"{prefix}:{name}"
            for name in ("workers", "inflight", "requests", "seen", "once", "failed", "queued")
        }

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        """No connection yet: :meth:`open` makes the first, and reports its failure."""
        config = config_from_settings(crawler.settings)
        url = config.cluster.redis_url or crawler.settings.get("REDIS_URL") or ""
        source = getattr(getattr(crawler.spider, "source", None), "name", None)
        error: ValueError | None = None
        try:
            server = connect(url)
        except ValueError as exc:  # a URL redis-py cannot read: open() says so
            server, error = redis.Redis(), exc
        scheduler = cls(crawler, server, url, key_prefix(config, source or "spider"))
        scheduler.url_error = error
        return scheduler

    # -- opening and closing -----------------------------------------------------------
    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = SharedQueue(self.server, spider, self.prefix, JsonSerializer)
        self.queue.worker = self.worker
        self.local_df.open()
        if getattr(spider, "check", False) or not hasattr(spider, "frontier"):
            return  # a dry run, or not the news spider: nothing is shared
        try:
            if self.url_error is not None:
                raise self.url_error
            self._join(spider)
        except (redis.RedisError, ValueError, OSError) as exc:
            # The source fails as a whole (its run says why); nothing is fetched. Closed
            # once open: a scheduler that refuses to open leaves Scrapy half-started.
            self.broken = True
            self._count(Stat.DISCOVERY_FAILED)
            self._count(error_key("redis"))
            self._report(exc)
            self.crawler.signals.connect(self._refuse, signal=signals.spider_opened)
            return
        self.shared = True
        self.crawler.signals.connect(self.request_done, signal=signals.response_received)
        self.crawler.signals.connect(self.request_left, signal=signals.request_left_downloader)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(HEARTBEAT_SECONDS, now=False)

    def _refuse(self, spider: Spider) -> None:
        raise CloseSpider(REDIS_FAILED)

    def _join(self, spider: Spider) -> None:
        news: NewsSpider = spider  # type: ignore[assignment]
        join = self.server.register_script(JOIN_SCRIPT)
        k = self.keys
        keys = [k["workers"], k["inflight"], k["requests"], k["seen"], k["once"]]
        fresh, back = join(
            keys=[*keys, k["failed"], k["queued"]],
            args=[self.worker, int(LEASE_SECONDS * 1000)],
        )
        log.info(
            "%s: shared frontier %s at %s: %s generation, %d waiting, %d taken back from"
            " stopped workers",
            news.source.name,
            self.prefix,
            display_url(self.url),
            "a new" if fresh else "the running",
            len(self.queue),
            back,
        )

    def _seed(self) -> None:
        """The dataset's known URL keys join ``seen`` before this worker queues anything:
        the store's snapshot the spider began with (``crawler/frontier.py``)."""
        frontier = getattr(self.spider, "frontier", None)
        stored = frontier.snapshot.stored if frontier is not None else frozenset()
        seeded = self.df.seed(stored)
        self.seeded = True
        log.info("%s: %d known URL keys in the shared frontier", self._name(), seeded)

    def close(self, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if not self.shared or self.broken:
            return
        try:
            self._share_failures()
            back = self.server.register_script(LEAVE_SCRIPT)(
                keys=[self.keys["workers"], self.keys["inflight"], self.keys["requests"]],
                args=[self.worker],
            )
        except redis.RedisError as exc:
            self._report(exc)
            return
        if back:
            log.info("%s: %d article requests left for the other workers", self._name(), back)

    # -- queueing ----------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if self.broken:
            return False  # no frontier: nothing is fetched
        if not self.shared or "nw_url" not in request.meta:
            if not request.dont_filter and self.local_df.request_seen(request):
                return False
            self.local.append(request)
            return True
        return bool(self._redis(lambda: self._enqueue_shared(request), False))

    def _enqueue_shared(self, request: Request) -> bool:
        if not self.seeded:
            self._seed()
        previous = request.meta.pop("nw_shared", None)
        if previous is not None:  # a retry or a redirect of a request taken from Redis
            self.queue.done(previous, url_key(request.url))
        meta = request.meta
        if meta.get("retry_times"):
            pass  # a retry of a request this worker took: already counted
        elif meta.get("redirect_times") or meta.get("nw_refetch"):
            # A known page fetched once more (a changed article, a redirect's target, maybe
            # stored under another URL): by whichever worker asks first.
            self.df.request_seen(request)
            if not self.server.sadd(self.keys["once"], url_key(request.url)):
                return False
        elif not request.dont_filter and self.df.request_seen(request):
            return False
        self.queue.push(request)
        self._count("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local and not self.broken:
            return self.local.popleft()
        if not self.shared or self.broken:
            return None
        request: Request | None = self._redis(self.queue.pop, None)
        if request is not None:
            self._count("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.local:
            return True
        if not self.shared or self.broken:
            return False
        return bool(self._redis(lambda: len(self.queue) > 0, False))

    def __len__(self) -> int:
        return len(self.local) + (len(self.queue) if self.shared and not self.broken else 0)

    # -- completion --------------------------------------------------------------------
    def request_done(self, response: Any, request: Request, spider: Spider) -> None:
        self._finish(request)

    def request_left(self, request: Request, spider: Spider) -> None:
        # A request dropped while the crawl is being closed (crawler/deadline.py) was not
        # fetched: it stays in flight, and close() hands it back to the queue.
        if getattr(spider, "stopping", None) is None:
            self._finish(request)

    def _finish(self, request: Request) -> None:
        data = request.meta.get("nw_shared")
        if data is None or self.broken:
            return
        self._redis(lambda: self.queue.done(data, url_key(request.url)), None)

    def spider_idle(self, spider: Spider) -> None:
        """Idle here is not done while another worker still has requests in flight: they
        may come back (it stops, it crashes and its lease ends), and their failures decide
        which listings keep their validators."""
        if not self.shared or self.broken or getattr(spider, "stopping", None) is not None:
            return
        busy = self.server.register_script(BUSY_SCRIPT)
        others, waiting = self._redis(
            lambda: busy(
                keys=[self.keys["workers"], self.keys["inflight"], self.keys["requests"]],
                args=[self.worker],
            ),
            (0, 0),
        )
        if others or waiting:
            raise DontCloseSpider

    def _beat(self) -> None:
        if self.broken:
            return
        beat = self.server.register_script(BEAT_SCRIPT)
        k = self.keys

        def work() -> int:
            self._share_failures()
            back: int = beat(
                keys=[k["workers"], k["inflight"], k["requests"]],
                args=[self.worker, int(LEASE_SECONDS * 1000)],
            )
            return back

        back = self._redis(work, 0)
        if back:
            log.warning(
                "%s: %d article requests of a stopped worker are queued again", self._name(), back
            )
            engine = self.crawler.engine
            if engine is not None and engine._slot is not None:
                engine._slot.nextcall.schedule()

    def _share_failures(self) -> None:
        """This worker's failed URL keys go to ``failed`` (and leave ``seen``: the next pass
        may queue them); every worker's failures spoil this worker's listings."""
        ledger = getattr(self.spider, "ledger", None)
        if ledger is None:
            return
        mine = set(ledger.failed) - self.reported_failed
        if mine:

            def publish(pipe: redis.client.Pipeline) -> None:
                pipe.sadd(self.keys["failed"], *mine)
                pipe.srem(self.keys["seen"], *mine)

            self.server.transaction(publish)
            self.reported_failed |= mine
        for raw in self.server.smembers(self.keys["failed"]):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            if key not in ledger.failed:
                ledger.link_failed(key)
                self.reported_failed.add(key)

    # -- errors ------------------------------------------------------------------------
    def _redis(self, call: Callable[[], T], fallback: T) -> T:
        """A Redis call; when it fails, the crawl is closed with one line, once."""
        if self.broken:
            return fallback
        try:
            return call()
        except redis.RedisError as exc:
            self.broken = True
            self._count(error_key("redis"))
            self._report(exc)
            stop_crawl(self.crawler, REDIS_FAILED, None)
            return fallback

    def _report(self, exc: BaseException) -> None:
        log.error(
            "%s: the shared frontier at %s cannot be used: %s",
            self._name(),
            display_url(self.url),
            describe(exc),
        )

    def _name(self) -> str:
        return self.prefix.rsplit(":", 1)[-1]

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
