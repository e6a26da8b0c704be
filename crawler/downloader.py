"""Scrapy's downloader, with ``CONCURRENT_REQUESTS_PER_DOMAIN`` kept when there is no delay.

Scrapy's ``Downloader._process_queue`` (2.14 and later) hands the queued requests of a site
to coroutines that it schedules for later, and counts a request as transferring only once
its coroutine runs. With a download delay it sends one request and stops, so nothing shows;
with no delay (``[crawl] download_delay = 0`` and AutoThrottle off) the loop sees every
slot free and sends the whole queue at once: up to ``CONCURRENT_REQUESTS`` (16) requests at
a time to one site whose ``concurrent_per_domain`` is 1. Here a request counts as
transferring from the moment it is taken off the queue; Scrapy's own code adds it to the
same set again when it starts, and removes it when it is done. A Scrapy without that
scheduling (it started each download at once) keeps its own code.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils import defer

_schedule_coro = getattr(defer, "_schedule_coro", None)


class PerSiteDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        if getattr(getattr(self.crawler, "engine", None), "paused", False):
            return  # a paused crawl starts no download: `resume` sends what waits
        wait_for = getattr(self, "_wait_for_download", None)
        if slot.latercall or slot.download_delay() or wait_for is None or _schedule_coro is None:
            # A delay sends one request at a time already: Scrapy's own code is right.
            super()._process_queue(slot)
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = monotonic()
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)
            _schedule_coro(wait_for(slot, request, queue_dfd))

    def resume(self) -> None:
        """Send what the sites' queues held while the crawl was paused."""
        for slot in list(self.slots.values()):
            self._process_queue(slot)
