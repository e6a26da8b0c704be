"""The extraction pool as the crawl sees it: Deferreds on the reactor, and back-pressure.

Scrapy keeps downloading on the reactor thread while the pages' CPU work
(`pipelines.process.prepare_page`) runs in the worker processes of
:class:`pipelines.pool.ExtractPool`; each result comes back to the reactor thread
(``reactor.callFromThread``), where the item pipeline writes it: one writer, one transaction
per article, as before.

One pool serves every crawl of the process (the crawls of a pass share it): it is started
when the first crawl's item pipeline is built (without waiting for its workers: the first
page does) and stopped when the last one closes, also for a bare ``scrapy crawl news -a
source=X``.

At most ``2 x workers + 2`` pages are in the pool at once; a page beyond that waits here.
Once `pause_at` pages (or ``MAX_WAITING_BYTES`` of bodies) wait, every crawl that has brought
a page is paused (``engine.pause()``: no new request leaves the scheduler, and
crawler/downloader.py starts none of those its sites' queues hold; downloads in progress
finish), so memory stays bounded when downloads outrun extraction. Pausing only the crawl
that brought the page, while Scrapy's downloader went on sending what it had queued (up to
``CONCURRENT_REQUESTS`` a crawl), let up to 177-197 pages (33-36 MB) wait over 1,080 pages
on 8 sites; now 136-140 (25-29 MB), for a pass as fast as before (alternating runs: within
the machine's noise).

The crawls resume while `resume_at` pages still wait, so that the workers go on with those
while the next requests come back. Resuming only once the
wait was empty left the workers idle for as long as the slowest of those requests took: a
crawl that resumes opens its connections all at once, and a server with a short listen
backlog drops some, which the client repeats only a second later.

``[crawl] workers`` 0 or 1, or a pool that cannot start (one log line), means every page is
processed inline, on the reactor thread. So does a pool that stops working mid-pass (its
workers and their forkserver killed by a signal sent to the whole process group, as
``timeout``, a service manager or ``newswatch schedule`` stopping a pass do): one log line,
and the pages it held or that waited for it are processed inline, none lost. A pool's
threads that give up take the pages they held with them, so a pass with pages in the pool
looks at it every `WATCH_SECONDS` as well; and a pool that gives no page back for
``extract_timeout`` + `STALL_GRACE_SECONDS` while it holds some is left the same way (a
worker killed while it read a page from pebble's shared channel leaves the channel's lock
held, and no worker reads again; a page still running would have been stopped at its time
cap by then).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed

from pipelines import heap
from pipelines.forkserver import default_workers
from pipelines.models import Page
from pipelines.pool import (
    POOL_GONE,
    ExtractPool,
    PoolBroken,
    PoolUnavailable,
    WorkerSetup,
    in_flight_limit,
)
from pipelines.process import Prepared, ProcessOptions, prepare_page

log = logging.getLogger(__name__)

# At most this much page body waits for the pool, whatever the count of pages.
MAX_WAITING_BYTES = 32 * 2**20
# While pages are in the pool, it is looked at this often: one that stopped working is left.
WATCH_SECONDS = 1.0
# A pool holding pages that gives none back for extract_timeout + this long is stuck.
STALL_GRACE_SECONDS = 15.0


def pause_at(workers: int) -> int:
    """Pages waiting for the pool at which a crawl that brings one more is paused."""
    return 2 * resume_at(workers)


def resume_at(workers: int) -> int:
    """Pages still waiting when the paused crawls resume: about what the workers get
    through while a request comes back (~0.3 s of a worker's 30 to 40 pages/s)."""
    return 10 * workers


class PageRunner:
    """Runs `prepare_page` for the crawls of this process, in the pool or inline."""

    def __init__(self, options: ProcessOptions, hooks: dict[str, str], workers: int | None,
                 timeout: float, call_from_thread: Callable[..., object] | None = None,
                 ) -> None:  # fmt: skip
        self.options = options
        # How a result gets back to the reactor thread: reactor.callFromThread (tests may
        # collect the calls instead of running a reactor).
        self.call_from_thread = call_from_thread
        # How `check_pool` is called later: reactor.callLater with the reactor's
        # callFromThread (a test that collects the calls runs `check_pool` itself).
        self.call_later: Callable[..., Any] | None = None
        self.workers = default_workers() if workers is None else workers
        self.limit = in_flight_limit(self.workers)
        self.peak_in_flight = 0
        self.pages = 0  # pages asked for
        # The pages in the pool, by the number they were handed over with.
        self.held: dict[int, tuple[Page, Deferred[Prepared]]] = {}
        self._handed = 0
        self._watch: Any = None  # the reactor's call of `check_pool`, while one is due
        self.stall_after = timeout + STALL_GRACE_SECONDS
        self._progress = time.monotonic()  # the last result, or the first page held since
        self.waiting: deque[tuple[Page, Deferred[Prepared]]] = deque()
        self.waiting_bytes = 0
        self.pause_at = pause_at(self.workers)
        self.resume_at = resume_at(self.workers)
        self.engines: dict[Any, None] = {}  # the engines of the crawls that brought pages
        self.paused: list[Any] = []  # engines paused while pages wait
        self.users = 0
        self.pool: ExtractPool | None = None
        self.ready = True  # False from the pool's launch until a worker is known set up
        if self.workers <= 1:
            log.info("extraction runs in the crawling process (%d worker)", self.workers)
            return
        setup = WorkerSetup(tuple(options.topics), options.dedup, dict(hooks))
        pool = ExtractPool(setup, self.workers, timeout)
        try:
            pool.launch()  # waited for with the first page: see `_wait_for_pool`
        except PoolUnavailable as exc:
            self._unavailable(exc)
            return
        self.pool = pool
        self.ready = False

    def _wait_for_pool(self) -> None:
        """Before the first page goes to the pool: wait until a worker is set up (usually
        done by then: the crawls were set up and their first pages fetched meanwhile), or
        process every page inline if none can be."""
        assert self.pool is not None
        try:
            self.pool.wait_ready()
        except PoolUnavailable as exc:
            self.pool = None
            self._unavailable(exc)
        self.ready = True

    @staticmethod
    def _unavailable(exc: PoolUnavailable) -> None:
        log.warning("extraction pool could not start (%s): pages are processed inline", exc)

    @property
    def in_flight(self) -> int:
        """Pages in the pool now."""
        return len(self.held)

    @property
    def inline(self) -> bool:
        return self.pool is None

    def prepare(self, page: Page, engine: Any = None) -> Deferred[Prepared]:
        """The page's `Prepared`, when a worker has it (inline: at once). Fails with
        `pipelines.pool.PageFailed` for a page over the time cap or one that crashed."""
        if not self.ready:
            self._wait_for_pool()
        if engine is not None and engine not in self.engines:
            self.engines[engine] = None
        self.pages += 1
        if self.pages % heap.EVERY_PAGES == 0:
            heap.give_back()
        if self.pool is None:
            try:
                return succeed(prepare_page(page, self.options))
            except Exception:
                return fail()
        result: Deferred[Prepared] = Deferred()
        if self.in_flight < self.limit:
            self._submit(page, result)
        else:
            self.waiting.append((page, result))
            self.waiting_bytes += len(page.body)
            full = len(self.waiting) >= self.pause_at or self.waiting_bytes >= MAX_WAITING_BYTES
            if full:
                self._pause()
        return result

    def _pause(self) -> None:
        """Pause every crawl that brought a page: downloads in progress finish, no new
        one starts. Any page more, from whichever crawl, would only wait longer."""
        for engine in self.engines:
            if engine not in self.paused:
                engine.pause()
                self.paused.append(engine)

    def _submit(self, page: Page, result: Deferred[Prepared]) -> None:
        assert self.pool is not None
        try:
            future = self.pool.submit(page)
        except PoolBroken as exc:
            self._fall_back(exc, [(page, result)])
            return
        self._handed += 1
        key = self._handed
        if not self.held:
            self._progress = time.monotonic()
        self.held[key] = (page, result)
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        call = self.call_from_thread
        if call is None:
            # Imported here: importing it at module level would install Twisted's default
            # reactor before Scrapy installs the one its settings ask for.
            from twisted.internet import reactor

            call = self.call_from_thread = reactor.callFromThread
            self.call_later = reactor.callLater

        def back(done: Future[Prepared]) -> None:  # in a pebble thread
            call(self._finished, done, key)

        future.add_done_callback(back)
        self._watch_pool()

    def _finished(self, done: Future[Prepared], key: int) -> None:
        entry = self.held.pop(key, None)
        if entry is None:  # processed inline since: the pool had stopped working
            return
        page, result = entry
        self._progress = time.monotonic()
        error = done.exception()
        if isinstance(error, PoolBroken):
            self._fall_back(error, [(page, result)])
            return
        while self.waiting and self.in_flight < self.limit:
            page, waited = self.waiting.popleft()
            self.waiting_bytes -= len(page.body)
            self._submit(page, waited)
        few = len(self.waiting) <= self.resume_at
        drained = few and self.waiting_bytes <= MAX_WAITING_BYTES // 2
        if self.paused and drained:
            for engine in self.paused:
                engine.unpause()
                wake(engine)
            self.paused.clear()
        if error is not None:
            result.errback(error)
        else:
            result.callback(done.result())

    def check_pool(self) -> None:
        """Leave a pool that stopped working (every page it holds is processed inline);
        look again in `WATCH_SECONDS` while it holds pages."""
        self._watch = None
        if self.pool is None:
            return
        if self.pool.broken:
            self._fall_back(PoolBroken(POOL_GONE), [])
        elif self.held and time.monotonic() - self._progress > self.stall_after:
            stuck = PoolBroken(f"no page came back in {self.stall_after:.0f} s")
            self._fall_back(stuck, [])
        elif self.held:
            self._watch_pool()

    def _watch_pool(self) -> None:
        if self._watch is None and self.call_later is not None:
            self._watch = self.call_later(WATCH_SECONDS, self.check_pool)

    def _fall_back(
        self, cause: PoolUnavailable, pages: list[tuple[Page, Deferred[Prepared]]]
    ) -> None:
        """The pool stopped working: from now on every page is processed inline, first
        ``pages``, those it held and those waiting for it (one warning line)."""
        pool, self.pool = self.pool, None
        log.warning(
            "extraction pool stopped (%s): the remaining pages are processed in the"
            " crawling process",
            cause,
        )
        stranded = [*pages, *self.held.values(), *self.waiting]
        self.held.clear()
        self.waiting.clear()
        self.waiting_bytes = 0
        self._cancel_watch()
        for engine in self.paused:
            engine.unpause()
            wake(engine)
        self.paused.clear()
        if pool is not None:  # stopped aside: a stuck pool's threads may take a while
            threading.Thread(target=pool.close, name="newswatch-pool-close", daemon=True).start()
        for page, result in stranded:
            try:
                prepared = prepare_page(page, self.options)
            except Exception as exc:
                result.errback(exc)
            else:
                result.callback(prepared)

    def _cancel_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None and watch.active():
            watch.cancel()

    def close(self) -> None:
        self._cancel_watch()
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()


def wake(engine: Any) -> None:
    """Have an unpaused engine look for its next request now: Scrapy's ``unpause`` only
    clears a flag, and the engine then waits for its heartbeat (every 5 s) to send again,
    which left whole sites idle for seconds after each pause."""
    slot = getattr(engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()
    resume = getattr(getattr(engine, "downloader", None), "resume", None)
    if resume is not None:
        resume()


_shared: PageRunner | None = None


def acquire(options: ProcessOptions, hooks: dict[str, str], workers: int | None,
            timeout: float) -> PageRunner:  # fmt: skip
    """The process's runner (started by the first crawl that asks); `release` it."""
    global _shared
    if _shared is None:
        _shared = PageRunner(options, hooks, workers, timeout)
    _shared.users += 1
    return _shared


def release(runner: PageRunner, engine: Any = None) -> None:
    """A crawl (of ``engine``) is done with the runner; the last one stops the pool."""
    global _shared
    runner.engines.pop(engine, None)
    runner.users -= 1
    if runner.users <= 0:
        runner.close()
        if _shared is runner:
            _shared = None
