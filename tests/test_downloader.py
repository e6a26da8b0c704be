"""crawler/downloader.py: a crawl paused for back-pressure (crawler/pagepool.py) starts no
download from its sites' queues, and `resume` sends what they held."""

from __future__ import annotations

from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.core.downloader import Slot
from scrapy.http import Request
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

import crawler.downloader as downloader_module
from crawler.downloader import PerSiteDownloader


def test_a_paused_crawl_starts_no_download_until_resumed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[Request] = []

    def schedule(coro: Coroutine[Any, Any, None]) -> None:  # instead of running it
        started.append(coro.cr_frame.f_locals["request"])
        coro.close()

    monkeypatch.setattr(downloader_module, "_schedule_coro", schedule)
    crawler = get_crawler(settings_dict={"DOWNLOAD_DELAY": 0})
    downloader = PerSiteDownloader(crawler)
    crawler.engine = SimpleNamespace(paused=True)  # type: ignore[assignment]
    slot = downloader.slots["127.0.0.1"] = Slot(concurrency=2, delay=0, jitter=0)
    requests = [Request(f"http://127.0.0.1/{n}") for n in range(3)]
    for request in requests:
        slot.queue.append((request, Deferred()))
        downloader._process_queue(slot)  # what Scrapy calls as each request arrives
    assert not started and len(slot.queue) == 3

    crawler.engine.paused = False
    downloader.resume()
    assert started == requests[:2]  # as many as the site's concurrency allows
    assert list(slot.transferring) and len(slot.queue) == 1
