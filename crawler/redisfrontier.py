"""A frontier shared by several crawler processes, in Redis (``[cluster] redis_url``).

With ``redis_url`` set, the add-on (``crawler/addon.py``) makes :class:`SharedScheduler`
(scrapy-redis' scheduler) the scheduler of every crawl of the news spider. Each source's
article requests then live in Redis, and so do the URL keys met so far: every process
crawling the source, on any machine, takes its next article from one queue and never
fetches an article another one queued. What stays in each process, read in every pass:
the discovery requests (feeds, sitemaps, section pages, robots.txt), each process's
conditional GETs and caps (``crawler/frontier.py``).

Keys, under ``newswatch:<[cluster] project>:<dataset>:<source>:`` (``dataset``: a short
hash of the PostgreSQL URL without its login, or of the host and SQLite file; two sources
or two datasets never share a key):

- ``requests`` (sorted set): article requests waiting, as JSON (never pickle: whoever can
  write to Redis must not run code in the crawlers); the score is the request's priority.
- ``inflight`` (hash): request -> the worker that took it (and its score). A request taken
  by a worker that stops heartbeating (killed, machine down) goes back to ``requests``.
- ``workers`` (sorted set): worker -> when its lease ends (refreshed every few seconds).
- ``queued`` (set): URL keys waiting or in flight.
- ``seen`` (set): URL keys not to queue again: the dataset's known URLs (each worker adds
  the store's snapshot its crawl began with before it queues anything) and the keys
  queued since.
- ``once`` (set): known pages fetched once more in the generation, by whichever worker
  asks first: a stored article that changed, a redirect's target (maybe stored already).
- ``failed`` (set): URL keys that could not be fetched (a timeout, a 5xx): they are not
  ``seen`` any more, and their listings keep no validator, so the next pass lists them.

``requests``, ``inflight``, ``workers`` and ``queued`` persist (scrapy-redis'
``SCHEDULER_PERSIST``; nothing is flushed on start or close): what a stopped or crashed
crawl left is fetched by the others, or by the next pass. ``seen``, ``once`` and
``failed`` belong to a generation: the first process to open a source while no worker of it
is alive starts one, and rebuilds ``seen`` from the store and ``queued``. Whatever was taken
and never stored (a crash between fetch and store) is thus fetched again next time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter as LocalDupeFilter
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler.deadline import stop_crawl
from crawler.sources import config_from_settings
from crawler.stats import Stat, error_key
from pipelines.config import Config
from pipelines.config.cluster import REDIS_PASSWORD_ENV
from pipelines.urls import url_key

if TYPE_CHECKING:
    from crawler.spiders.news import NewsSpider

log = logging.getLogger(__name__)

REDIS_FAILED = "redis_unavailable"  # the close reason of a crawl that lost its frontier
LEASE_SECONDS = 30.0  # a worker silent this long is gone: its requests go back to the queue
HEARTBEAT_SECONDS = 5.0
SEED_BATCH = 10_000  # URL keys per round trip when the store's are copied to Redis
SOCKET_TIMEOUT = 10.0

T = TypeVar("T")

# KEYS: workers, inflight, requests. Takes the requests of workers whose lease is over (or
# that are not registered at all) back to the queue; returns how many.
_REAP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local all = redis.call('HGETALL', KEYS[2])
local back = 0
for i = 1, #all, 2 do
  local owner, score = string.match(all[i + 1], '^(.*)|([^|]*)$')
  if not redis.call('ZSCORE', KEYS[1], owner) then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('ZADD', KEYS[3], score, all[i])
    back = back + 1
  end
end
"""
# + KEYS: seen, once, failed, queued; ARGV: worker, lease (ms). Returns {fresh, back}.
_JOIN = (
    _REAP
    + """
local fresh = 0
if redis.call('ZCARD', KEYS[1]) == 0 then
  fresh = 1
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
  if redis.call('EXISTS', KEYS[7]) == 1 then
    redis.call('SUNIONSTORE', KEYS[4], KEYS[7])
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {fresh, back}
"""
)
# ARGV: worker, lease (ms). Keeps the worker alive; returns the requests taken back.
_BEAT = _REAP + "\nredis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\nreturn back\n"
# ARGV: worker. Requests in flight in other live workers (after reaping), and waiting.
_BUSY = (
    _REAP
    + """
local others = 0
local owners = redis.call('HVALS', KEYS[2])
for _, v in ipairs(owners) do
  if string.match(v, '^(.*)|') ~= ARGV[1] then others = others + 1 end
end
return {others, redis.call('ZCARD', KEYS[3])}
"""
)
# KEYS: requests, inflight; ARGV: worker. The best request, moved to inflight atomically.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], r[1], ARGV[1] .. '|' .. r[2])
return r[1]
"""
# KEYS: workers, inflight, requests; ARGV: worker. This worker's requests back to the queue.
_LEAVE = """
local all = redis.call('HGETALL', KEYS[2])
local back = 0
for i = 1, #all, 2 do
  local owner, score = string.match(all[i + 1], '^(.*)|([^|]*)$')
  if owner == ARGV[1] then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('ZADD', KEYS[3], score, all[i])
    back = back + 1
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
return back
"""


def shared_frontier_settings(config: Config) -> dict[str, Any]:
    """The Scrapy settings of a shared frontier (set by the add-on when ``redis_url`` is)."""
    return {
        "SCHEDULER": "crawler.redisfrontier.SharedScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.redisfrontier.SharedQueue",
        "DUPEFILTER_CLASS": "crawler.redisfrontier.UrlKeyFilter",
        "SCHEDULER_PERSIST": True,  # a crawl that ends leaves what it did not fetch
        "SCHEDULER_FLUSH_ON_START": False,  # and one that starts joins the others
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # idle: see SharedScheduler.spider_idle
        "REDIS_URL": config.cluster.redis_url,
    }


def display_url(url: str) -> str:
    """The Redis URL as it may be shown: no password, whatever it holds."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]  # host and port, as written
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def dataset_id(config: Config) -> str:
    """A short, stable name of the dataset: its keys never meet another dataset's."""
    if config.store_url is not None:
        parts = urlsplit(config.store_url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in ("password",)]
        where = f"{parts.hostname}:{parts.port or 5432}{parts.path}?{urlencode(query)}"
        identity = "postgresql://" + where
    else:
        identity = f"sqlite://{socket.gethostname()}{config.store_path.resolve()}"
    return hashlib.sha1(identity.encode()).hexdigest()[:12]


def key_prefix(config: Config, source: str) -> str:
    return f"newswatch:{config.cluster.project}:{dataset_id(config)}:{source}"


def connect(url: str) -> redis.Redis:
    """A client of the server at ``url``; the password comes from the environment only."""
    password = os.environ.get(REDIS_PASSWORD_ENV) or None
    client: redis.Redis = redis.Redis.from_url(
        url,
        password=password,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        retry_on_timeout=False,
    )
    return client


def describe(exc: BaseException) -> str:
    """A Redis error as one line, without what the URL or the environment held."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    refused = isinstance(exc, redis.AuthenticationError) or "NOAUTH" in text
    if refused and not os.environ.get(REDIS_PASSWORD_ENV):
        return f"the server wants a password: set {REDIS_PASSWORD_ENV}"
    if refused:
        return f"the server refused the password in {REDIS_PASSWORD_ENV}"
    return text


class JsonSerializer:
    """Requests as JSON: bytes and non-text dict keys are wrapped, nothing is executed."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(_wrap(obj), separators=(",", ":")).encode()

    @staticmethod
    def loads(data: bytes | str) -> Any:
        return _unwrap(json.loads(data))


def _wrap(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return {"__b": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _wrap(v) for k, v in obj.items()}
        return {"__d": [[_wrap(k), _wrap(v)] for k, v in obj.items()]}
    if isinstance(obj, list | tuple):
        return [_wrap(v) for v in obj]
    return obj


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__b" in obj:
            return base64.b64decode(obj["__b"])
        if "__d" in obj:
            return {_unwrap(k): _unwrap(v) for k, v in obj["__d"]}
        return {k: _unwrap(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unwrap(v) for v in obj]
    return obj


class UrlKeyFilter(RFPDupeFilter):  # type: ignore[misc]
    """scrapy-redis' duplicate filter, keyed by newswatch's URL identity
    (:func:`pipelines.urls.url_key`), not by Scrapy's request fingerprint."""

    def request_fingerprint(self, request: Request) -> str:
        return url_key(request.url)

    def seed(self, keys: Iterable[str]) -> int:
        """Add the dataset's known URL keys, ``SEED_BATCH`` per round trip."""
        batch: list[str] = []
        count = 0
        for key in keys:
            batch.append(key)
            if len(batch) >= SEED_BATCH:
                count += self._add(batch)
                batch = []
        return count + (self._add(batch) if batch else 0)

    def _add(self, batch: list[str]) -> int:
        self.server.sadd(self.key, *batch)
        return len(batch)

    def close(self, reason: str = "") -> None:
        """Kept: the generation's keys outlive one crawl (scrapy-redis would delete them)."""


class SharedQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis' priority queue; a request taken is kept in ``inflight`` under its
    worker until it leaves the downloader, so that no crash loses it."""

    def __init__(
        self, server: redis.Redis, spider: Spider, key: str, serializer: Any = None
    ) -> None:
        super().__init__(server, spider, key + ":requests", serializer or JsonSerializer)
        self.prefix = key
        self.inflight = key + ":inflight"
        self.queued = key + ":queued"
        self.worker = ""
        self._pop = server.register_script(_POP)

    def push(self, request: Request) -> None:
        data = self._encode_request(request)
        pipe = self.server.pipeline(transaction=True)
        pipe.zadd(self.key, {data: -request.priority})
        pipe.sadd(self.queued, url_key(request.url))
        pipe.execute()

    def pop(self, timeout: int = 0) -> Request | None:
        data = self._pop(keys=[self.key, self.inflight], args=[self.worker])
        if not data:
            return None
        request: Request = self._decode_request(data)
        request.meta["nw_shared"] = data  # which inflight entry it is: see SharedScheduler
        return request

    def done(self, data: bytes, key: str) -> None:
        pipe = self.server.pipeline(transaction=True)
        pipe.hdel(self.inflight, data)
        pipe.srem(self.queued, key)
        pipe.execute()


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
        join = self.server.register_script(_JOIN)
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
            back = self.server.register_script(_LEAVE)(
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
        busy = self.server.register_script(_BUSY)
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
        beat = self.server.register_script(_BEAT)
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
            pipe = self.server.pipeline(transaction=True)
            pipe.sadd(self.keys["failed"], *mine)
            pipe.srem(self.keys["seen"], *mine)
            pipe.execute()
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
