"""The extraction pool: each page's CPU work on every core, with a time cap per page.

`pipelines.process.prepare_page` (decoding, trafilatura, metadata, language, topics, the
dedup fingerprint) is pure: it runs here in worker processes, while the process that owns
the store keeps downloading and writes each result in its one transaction
(`pipelines.process.store_page`). A pebble `ProcessPool` runs the workers:

- a page that runs past the time cap (``[crawl] extract_timeout``) has its worker killed
  and replaced; its future raises `PageFailed` with kind ``extract_timeout``;
- a page that kills its worker (a crash in a C library, a hook calling ``os._exit``) costs
  that page only: kind ``extract_crashed``, and pebble starts a new worker.

Workers are started from a ``forkserver`` (a clean process with newswatch's extraction
modules imported once, shared copy-on-write by the workers), not forked from the crawling
process and its threads. Each worker is set up once with the topics, the dedup rules and
the hooks paths (`WorkerSetup`), so a task carries only its page. A pool that cannot start
raises `PoolUnavailable` from `start` (or `launch`, then `wait_ready`), and the caller
processes pages inline.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pebble.pool.process
from pebble import ProcessExpired, ProcessPool

from pipelines.forkserver import START_METHOD, set_preload
from pipelines.hooks import load_hooks
from pipelines.models import DedupRules, Page
from pipelines.process import Prepared, ProcessOptions, prepare_page
from pipelines.topics import Topic

log = logging.getLogger(__name__)

EXTRACT_TIMEOUT = "extract_timeout"  # a page ran past [crawl] extract_timeout
EXTRACT_CRASHED = "extract_crashed"  # a page killed its worker
POOL_GONE = "its workers are gone"  # why a pool stopped, when pebble does not say
# How long `start` waits for the first worker to say it is ready: a forkserver importing
# trafilatura on a loaded machine takes a few seconds, never this long.
START_TIMEOUT = 120.0


class _WakeableClock:
    """The ``time`` module as pebble's pool module sees it, with a sleep that a closing pool
    can end early.

    pebble's pool-manager thread looks at the pool every ``CONSTS.sleep_unit`` (0.1 s) and
    sleeps in between; a pool's ``join`` waits for that thread, so every pass ended with
    ~60 ms (up to 0.1 s) of waiting for its next look. A shorter interval wakes the thread
    more often for the whole pass (~0.14 ms of CPU a page, docs/extraction.md); this keeps
    the interval and lets `ExtractPool.close` end the sleep it is in."""

    def __init__(self) -> None:
        self.wake = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.wake.wait(seconds)

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


_CLOCK = _WakeableClock()


def _use_wakeable_clock() -> None:
    """Give pebble's pool module `_CLOCK` for ``time`` (once; left alone if pebble no
    longer reads its ``time`` there)."""
    if getattr(pebble.pool.process, "time", None) is time:
        pebble.pool.process.time = _CLOCK  # type: ignore[assignment,attr-defined]


def in_flight_limit(workers: int) -> int:
    """Pages handed to the pool at most at once: enough to keep every worker busy while
    results travel back, few enough to bound memory (the rest wait, the crawl pauses)."""
    return 2 * workers + 2


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs, sent once when it starts (hooks by their import path)."""

    topics: tuple[Topic, ...] = ()
    dedup: DedupRules = DedupRules()
    hooks: Mapping[str, str] = field(default_factory=dict)  # source name -> "module:Name"

    def options(self) -> ProcessOptions:
        return ProcessOptions(
            topics=self.topics,
            dedup=self.dedup,
            hooks={source: load_hooks(path) for source, path in self.hooks.items()},
        )


class PoolUnavailable(RuntimeError):
    """The pool could not start; the message says why."""


class PoolBroken(PoolUnavailable):
    """The pool stopped working after it started (its workers and their forkserver killed
    by a signal to the process group, say): it takes no page any more, and a page it held
    gets no result from it. The caller has the pages, and processes them inline."""


class PageFailed(Exception):
    """A page the pool gave up on: ``kind`` is EXTRACT_TIMEOUT or EXTRACT_CRASHED."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# -- in the worker ---------------------------------------------------------------------------

_options: ProcessOptions | None = None
_setup_error: str | None = None


def _init_worker(setup: WorkerSetup) -> None:
    """Run once in each worker. An error is kept and reported by `_ready` (a raising
    initializer would make pebble start the worker again and again)."""
    global _options, _setup_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawling process's
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    )
    try:
        _options = setup.options()
        from pipelines.extract.metadata import warm_up

        warm_up()
    except Exception as exc:
        _setup_error = f"{type(exc).__name__}: {exc}"


def _ready() -> str | None:
    return _setup_error


def _prepare(page: Page) -> Prepared:
    if _options is None:
        raise RuntimeError(_setup_error or "extraction worker not set up")
    return prepare_page(page, _options)


# -- in the crawling process --------------------------------------------------------------


def _copy_outcome(done: Future[str | None], into: Future[str | None]) -> None:
    try:
        into.set_result(done.result())
    except BaseException as exc:  # noqa: BLE001 - handed on, raised by wait_ready
        into.set_exception(exc)


class ExtractPool:
    """``workers`` processes running `prepare_page`, each page capped at ``timeout`` s."""

    def __init__(
        self,
        setup: WorkerSetup,
        workers: int,
        timeout: float,
        start_method: str = START_METHOD,
    ) -> None:
        self.setup = setup
        self.workers = workers
        self.timeout = timeout
        self.start_method = start_method
        self._pool: ProcessPool | None = None
        self._ready: Future[str | None] | None = None  # a worker's answer, until read
        self._launched = 0.0
        self._starting: threading.Thread | None = None  # the thread starting the workers

    def start(self, wait: float = START_TIMEOUT) -> None:
        """Start the workers and wait until one is set up; PoolUnavailable if not."""
        self.launch()
        self.wait_ready(wait)

    def launch(self) -> None:
        """Start the workers without waiting for them (`wait_ready` does); PoolUnavailable
        if the pool cannot even be made.

        Starting a worker from a forkserver waits until the server has imported its
        modules, and the crawling process has better to do meanwhile: set up the other
        crawls, fetch robots.txt files and feeds. So the workers are started by a thread
        of this process, and the crawl waits for them only with its first page."""
        _use_wakeable_clock()
        try:
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == START_METHOD:
                set_preload()  # a no-op for a forkserver `prestart` already started
            pool = ProcessPool(
                max_workers=self.workers,
                initializer=_init_worker,
                initargs=(self.setup,),
                context=context,
            )
        except Exception as exc:  # noqa: BLE001 - an unknown start method, a bad setup
            raise PoolUnavailable(f"{type(exc).__name__}: {exc}") from None
        self._pool = pool
        ready: Future[str | None] = Future()
        self._ready = ready
        self._launched = time.monotonic()

        def start_workers() -> None:  # in the thread
            try:
                answer = pool.schedule(_ready)  # starts the workers, then asks one
            except BaseException as exc:  # fork/spawn refused, a pickling error
                ready.set_exception(exc)
                return
            answer.add_done_callback(lambda done: _copy_outcome(done, ready))

        self._starting = threading.Thread(
            target=start_workers, name="newswatch-pool-start", daemon=True
        )
        self._starting.start()

    def wait_ready(self, wait: float = START_TIMEOUT) -> None:
        """Wait until a worker is set up, ``wait`` s from the launch at most (at once when
        one was already); PoolUnavailable, and the pool closed, if none is."""
        ready = self._ready
        if ready is None:
            return
        left = max(0.0, self._launched + wait - time.monotonic())
        try:
            error = ready.result(timeout=left)
        except FutureTimeout:
            self.close()
            raise PoolUnavailable(f"no worker was ready after {wait:.0f} s") from None
        except Exception as exc:  # fork/spawn refused, a pickling error, a dead worker
            self.close()
            raise PoolUnavailable(f"{type(exc).__name__}: {exc}") from None
        if error is not None:
            self.close()
            raise PoolUnavailable(f"a worker could not be set up: {error}")
        self._ready = None

    def submit(self, page: Page) -> Future[Prepared]:
        """The page's `Prepared`; the future raises `PageFailed` for a page over the time
        cap or one that killed its worker, and any error `prepare_page` raised."""
        assert self._pool is not None, "start the pool first"
        try:
            inner = self._pool.schedule(_prepare, args=(page,), timeout=self.timeout)
        except RuntimeError as exc:  # pebble: "the Pool is not active", "Unexpected error"
            raise PoolBroken(str(exc)) from None
        outer: Future[Prepared] = Future()

        def done(future: Future[Prepared]) -> None:
            try:
                outer.set_result(future.result())
            except FutureTimeout:
                outer.set_exception(
                    PageFailed(EXTRACT_TIMEOUT, f"over {self.timeout:g} s: {page.final_url}")
                )
            except ProcessExpired as exc:
                outer.set_exception(
                    PageFailed(EXTRACT_CRASHED, f"worker died ({exc}): {page.final_url}")
                )
            except BrokenProcessPool as exc:  # pebble gave up on every page it held
                outer.set_exception(PoolBroken(str(exc) or POOL_GONE))
            except BaseException as exc:
                outer.set_exception(exc)

        inner.add_done_callback(done)
        return outer

    @property
    def broken(self) -> bool:
        """The pool started and stopped working since (pebble's ``active`` turned false
        without a `close`): a page it holds will get no result."""
        pool = self._pool
        return pool is not None and self._ready is None and not pool.active

    def close(self) -> None:
        """Stop the workers (a page still running is abandoned) and wait for them."""
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.join(START_TIMEOUT)  # done once the forkserver answered (or could not)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            _CLOCK.wake.set()  # the manager thread sees the stop now, not at its next look
            try:
                pool.join()
            finally:
                _CLOCK.wake.clear()
