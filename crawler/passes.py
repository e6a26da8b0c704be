"""A pass, defined once: lock, run, crawl, record, send, one report.

``newswatch run``, ``newswatch demo`` and every pass of ``newswatch schedule`` (which
starts ``newswatch run`` in a child process) go through :func:`run_pass`:

1. take the pass lock of the dataset (a second pass is refused, naming the holder);
2. open the ``runs`` row (a run a killed pass left ``running`` becomes ``interrupted``);
3. crawl the chosen sources, one crawler each, in one process: an article two sources
   list is fetched once, and the dataset is read once for all of them. A source's crawl
   is closed after ``[crawl] source_timeout_minutes`` (Scrapy's ``CLOSESPIDER_TIMEOUT``),
   and every crawl still open at ``[crawl] pass_timeout_minutes`` is closed then: the pass
   goes on with what it has, and the report names each source stopped so (under cron,
   ``quiet``, Scrapy's log is cut to one line per failure: :class:`QuietLog`);
4. finish the run with each source's counts and record source health (which may queue
   an operator notice);
5. send what the outbox holds, alerts and notices, over the channels given;

and return one :class:`PassReport`. A Twisted reactor cannot be restarted, so a process
runs at most one pass. A bare ``scrapy crawl news -a source=X`` records its run with the
same functions (``crawler/recorder.py``, through ``crawler/extension.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.task import LoopingCall

from crawler.deadline import PASS_TIMEOUT, later, stop_crawl
from crawler.extension import PASS_COUNTS_SETTING
from crawler.frontier import StoreSnapshot
from crawler.itempipelines import STORE_ERROR, STORE_FAILURE_SETTING, StoreFailure
from crawler.recorder import SourceCounts, SourceHealth, crawl_exit_code, finish_run, open_run
from crawler.spiders.news import NewsSpider
from crawler.stats import SourceReport
from pipelines.collector import resume_collection
from pipelines.config import Config, SourceConfig
from pipelines.errors import ExitCode
from pipelines.store import Store, open_config_store, store_errors, store_name
from pipelines.store.lock import store_pass_lock

if TYPE_CHECKING:
    from twisted.python.failure import Failure

    from pipelines.channels import Channel
    from pipelines.outbox import SendReport

__all__ = [
    "PassReport",
    "QuietLog",
    "SourceHealth",
    "SourceReport",
    "Tick",
    "crawl_settings",
    "run_pass",
]

log = logging.getLogger(__name__)

# The error a source whose crawl could not run at all is counted with (`_crawl_failed`).
CRAWL_FAILED = "crawl_failed"

# What a live display gets twice a second while the crawls run: source name ->
# (counts so far, whether its crawl is done). Sources not started yet are absent.
Tick = Callable[[Mapping[str, tuple[SourceReport, bool]]], None]
TICK_SECONDS = 0.5


@dataclass
class PassReport:
    """What one pass did: counts per source, their health, and the delivery."""

    run_id: int
    sources: list[SourceReport]
    health: dict[str, SourceHealth] = field(default_factory=dict)
    delivery: SendReport | None = None  # None: nothing was sent (--no-send)

    @property
    def crawl_code(self) -> ExitCode:
        """FAILED when a source failed as a whole; what the ``runs`` row records."""
        return crawl_exit_code(self.sources)

    @property
    def exit_code(self) -> ExitCode:
        """The pass's exit status: a failed source first, then undelivered alerts."""
        if self.crawl_code:
            return self.crawl_code
        if self.delivery is not None and self.delivery.undelivered:
            return ExitCode.DELIVERY
        return ExitCode.OK


def run_pass(
    config: Config,
    *,
    sources: Sequence[SourceConfig] | None = None,
    channels: Sequence[Channel] | None = None,
    baseline: bool = False,
    verbose: bool = False,
    quiet: bool = False,
    on_source: Callable[[SourceReport], None] | None = None,
    on_tick: Tick | None = None,
) -> PassReport:
    """One pass over ``sources`` (default: every enabled one).

    ``channels``: where alerts and notices go (``pipelines.outbox.open_channels``, opened
    by the caller before the pass, so a bad setting costs no crawl); None sends nothing
    and leaves them queued. ``on_source`` gets each source's counts as its crawl closes,
    ``on_tick`` every source's counts so far, twice a second. ``quiet`` (under cron):
    Scrapy's log keeps only its critical lines, one line each, no traceback.
    """
    chosen = list(sources if sources is not None else config.enabled_sources())
    # A store that cannot be written (locked past its busy timeout, a full disk) ends the
    # pass with one StoreError (exit 4); the crawl stops at the first one (see
    # crawler/itempipelines.py), and the run left `running` is `interrupted` next pass.
    with store_pass_lock(config), store_errors(store_name(config)):
        with open_config_store(config) as store:
            run_id = open_run(store)
            snapshot = StoreSnapshot.load(store)
        counts = SourceCounts(on_source)
        crawl(
            config,
            chosen,
            counts,
            snapshot,
            baseline=baseline,
            verbose=verbose,
            quiet=quiet,
            on_tick=on_tick,
        )
        report = finish_pass(config, run_id, counts.of([s.name for s in chosen]), channels)
    return report


def finish_pass(
    config: Config,
    run_id: int,
    sources: list[SourceReport],
    channels: Sequence[Channel] | None,
) -> PassReport:
    """Steps 4 and 5, with the pass lock held: finish the run with each source's counts,
    record their health, send what the outbox holds. ``newswatch cluster run``
    (``crawler/cluster.py``) ends its passes here too."""
    report = PassReport(run_id, sources)
    with open_config_store(config) as store:
        report.health = finish_run(store, run_id, report.sources, config)
        if channels is not None:
            report.delivery = send(store, config, channels, run_id)
    return report


def crawl(
    config: Config,
    sources: Sequence[SourceConfig],
    counts: SourceCounts,
    snapshot: StoreSnapshot,
    *,
    baseline: bool = False,
    verbose: bool = False,
    quiet: bool = False,
    on_tick: Tick | None = None,
) -> None:
    """Crawl and process every source in this process; counts arrive in ``counts``."""
    if not sources:
        return
    settings = crawl_settings(config, baseline=baseline, verbose=verbose, quiet=quiet)
    settings.set(PASS_COUNTS_SETTING, counts, priority="cmdline")
    failure = StoreFailure()
    settings.set(STORE_FAILURE_SETTING, failure, priority="cmdline")
    process = CrawlerProcess(settings)
    quiet_log = QuietLog.install() if quiet and not verbose else None

    def stop_every_crawl() -> None:  # the first store error: nothing more can be stored
        for crawler in list(process.crawlers):
            stop_crawl(crawler, STORE_ERROR, None)

    failure.stop_all = stop_every_crawl
    claimed: set[str] = set()  # shared: an article two sources list is fetched once
    for source in sources:
        crawling = process.crawl(NewsSpider, source=source, claimed=claimed, snapshot=snapshot)
        crawling.addErrback(_crawl_failed, source.name, counts, verbose)
    minutes = config.crawl.pass_timeout_minutes
    deadline = later(minutes * 60, close_all, process, minutes)
    ticks = _start_ticks(process, counts, on_tick) if on_tick is not None else None
    _freeze_startup_objects()
    try:
        process.start()
    finally:
        deadline.cancel()  # the crawls ended before it: nothing to do
        if ticks is not None and ticks.running:
            ticks.stop()
        if quiet_log is not None:
            logging.getLogger().removeHandler(quiet_log)
    if failure.error is not None:
        raise failure.error


def _crawl_failed(failure: Failure, name: str, counts: SourceCounts, verbose: bool) -> None:
    """A crawl that ended in an error Scrapy leaves to its caller (its spider or one of its
    middlewares could not be set up): one line naming the source, and the source counted
    as failed, so that the summary and the exit code say so; the other sources go on.
    (Scrapy would only log it when the error is collected, and the source would count as
    a crawl that found nothing.) ``verbose``: with its traceback."""
    error = failure.value
    assert error is not None  # a Failure always holds its exception
    trace = error.with_traceback(failure.tb) if verbose else None
    log.error(
        "%s: the crawl could not run: %s: %s", name, type(error).__name__, error, exc_info=trace
    )
    if name not in counts.reports:  # a crawl that closed has reported its own counts
        counts.add(SourceReport(name, discovery_failed=1, errors={CRAWL_FAILED: 1}))


def _freeze_startup_objects() -> None:
    """Take what start-up built (modules, config, topic rules, the store's snapshot, the
    crawlers) out of the garbage collector's reach for the rest of the process, and end
    the collector's pause of a command that crawls (``pipelines/collector.py``).

    Those objects live as long as the pass; without this, every full collection during the
    crawl walked them again (about 0.3 s of a 728-page pass's 6 s in the crawling process).
    No collection first: start-up leaves no cyclic garbage to speak of (a collection here
    found none and cost 0.04 s before the first request).
    """
    resume_collection(freeze=True)


def _start_ticks(process: CrawlerProcess, counts: SourceCounts, on_tick: Tick) -> LoopingCall:
    """Call ``on_tick`` from the reactor with every source's counts so far."""
    from twisted.internet import reactor  # installed by CrawlerProcess

    def tick() -> None:
        state = {name: (report, True) for name, report in counts.reports.items()}
        for crawler in list(process.crawlers):
            source = getattr(crawler.spider, "source", None)
            if source is None or crawler.stats is None or source.name in state:
                continue
            report = SourceReport.from_stats(source.name, crawler.stats.get_stats())
            state[source.name] = (report, False)
        on_tick(state)

    loop = LoopingCall(tick)
    reactor.callWhenRunning(loop.start, TICK_SECONDS)
    return loop


# A site that cannot be reached at all: every request to it says the same.
_UNREACHABLE = re.compile(
    r"connection refused|refused by other side|: refused\b(?!:)|no answer in time|timed? ?out"
    r"|timeout$|could not resolve|dns lookup|no route to host|unreachable",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://([^/\s>]+)")


class QuietLog(logging.StreamHandler):  # type: ignore[type-arg]
    """Under cron, Scrapy's own handler is off (``LOG_ENABLED``) and this one stands in on
    the root logger: WARNING and above, in Scrapy's format, each record on one line (no
    traceback), and one line per failure:

    - Scrapy's retry middleware's "Gave up retrying" is left out: newswatch's own line
      about the same request says what failed and why;
    - a host that cannot be reached (refused, no answer, no such name) is named once: the
      next requests to it fail the same way;
    - a line said once is not said again.

    newswatch's own loggers keep their handler, and the summary names each source in
    trouble; ``--verbose`` shows everything, tracebacks included."""

    def __init__(self) -> None:
        super().__init__()  # stderr
        self.seen: set[str] = set()
        self.setLevel(logging.WARNING)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    @classmethod
    def install(cls) -> QuietLog:
        handler = cls()
        logging.getLogger().addHandler(handler)
        return handler

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        if record.name == "scrapy.downloadermiddlewares.retry":
            return False
        first = (record.getMessage().strip().splitlines() or [""])[0]
        keys = [first]
        host = _URL.search(first)
        if host is not None and _UNREACHABLE.search(first):
            keys.append(f"unreachable {host.group(1)}")
        if not first or any(k in self.seen for k in keys):
            return False
        self.seen.update(keys)
        record.msg, record.args = first, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def close_all(process: CrawlerProcess, minutes: float) -> None:
    """The pass deadline: close every crawl still open (``crawler/deadline.py``)."""
    for crawler in list(process.crawlers):
        name = getattr(getattr(crawler.spider, "source", None), "name", "?")
        message = (
            f"{name}: stopped at the pass deadline ([crawl] pass_timeout_minutes = {minutes:g});"
            " the rest waits for the next pass"
        )
        stop_crawl(crawler, PASS_TIMEOUT, message)


def send(store: Store, config: Config, channels: Sequence[Channel], run_id: int) -> SendReport:
    """Alerts and notices, one sending loop (``pipelines/outbox.py``); it records
    ``runs.alerts_sent`` for ``run_id``."""
    from pipelines.outbox import send_all

    return send_all(store, config, channels, run_id=run_id)


def crawl_settings(
    config: Config,
    *,
    baseline: bool = False,
    verbose: bool = False,
    dry_run: bool = False,
    quiet: bool = False,
) -> Settings:
    """The project's Scrapy settings for a crawl of ``config`` in this process.

    ``[crawl]`` reaches Scrapy through the add-on (``crawler/addon.py``), as it does for
    ``scrapy crawl``; a dry run (``sources check``) stores and records nothing.
    """
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    overrides: dict[str, object] = {
        "NEWSWATCH_LOADED_CONFIG": config,
        "NEWSWATCH_BASELINE": baseline,
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        "LOG_FORMAT": "%(levelname)s %(name)s: %(message)s",
        # Under cron, QuietLog (installed by crawl()) stands in for Scrapy's log handler.
        "LOG_ENABLED": verbose or not quiet,
    }
    if dry_run:
        overrides["ITEM_PIPELINES"] = {}
    settings.setdict(overrides, priority="cmdline")
    return settings
