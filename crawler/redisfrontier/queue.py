"""The shared queue and its duplicate filter: scrapy-redis' own, keyed by newswatch's URL
identity and keeping each request taken in flight until it is done."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from scrapy import Request, Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from crawler.redisfrontier.connection import POP_SCRIPT, SEED_BATCH, JsonSerializer
from pipelines.urls import url_key


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
        self._pop = server.register_script(POP_SCRIPT)

    def push(self, request: Request) -> None:
        data = self._encode_request(request)

        def queue(pipe: redis.client.Pipeline) -> None:  # one MULTI/EXEC
            pipe.zadd(self.key, {data: -request.priority})
            pipe.sadd(self.queued, url_key(request.url))

        self.server.transaction(queue)

    def pop(self, timeout: int = 0) -> Request | None:
        data = self._pop(keys=[self.key, self.inflight], args=[self.worker])
        if not data:
            return None
        request: Request = self._decode_request(data)
        request.meta["nw_shared"] = data  # which inflight entry it is: see SharedScheduler
        return request

    def done(self, data: bytes, key: str) -> None:
        def release(pipe: redis.client.Pipeline) -> None:
            pipe.hdel(self.inflight, data)
            pipe.srem(self.queued, key)

        self.server.transaction(release)
