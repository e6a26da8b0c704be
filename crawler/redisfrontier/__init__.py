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

from typing import Any

from crawler.redisfrontier.connection import JsonSerializer, key_prefix
from crawler.redisfrontier.queue import SharedQueue, UrlKeyFilter
from crawler.redisfrontier.scheduler import REDIS_FAILED, SharedScheduler
from pipelines.config import Config

__all__ = [
    "REDIS_FAILED",
    "JsonSerializer",
    "SharedQueue",
    "SharedScheduler",
    "UrlKeyFilter",
    "key_prefix",
    "shared_frontier_settings",
]


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
