"""Recording a run: its ``runs`` row, its per-source counts, and the sources' health.

One recording path for every way a crawl is started: a pass (``crawler/passes.py``,
several sources in one process) and a bare ``scrapy crawl news -a source=X`` (through the
extension in ``crawler/extension.py``) open and finish their run with these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from crawler.stats import SourceReport
from pipelines.config import Config
from pipelines.errors import ExitCode
from pipelines.health import update_health
from pipelines.store import Store
from pipelines.store.runs import RunTotals


@dataclass(frozen=True)
class SourceHealth:
    """A source's health after the pass (see pipelines/health.py)."""

    state: str  # "ok" | "failing"
    bad_passes: int  # bad passes in a row, this one included


@dataclass
class SourceCounts:
    """The per-source counts of the crawls of one pass, as each crawl closes.

    Shared by every crawler of the pass through the ``NEWSWATCH_PASS_COUNTS`` setting.
    """

    on_source: Callable[[SourceReport], None] | None = None  # live progress
    reports: dict[str, SourceReport] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, object]) -> SourceCounts:
        # Each crawler gets a deep copy of the pass's settings, which hold this object:
        # every crawler must report to the one the pass reads.
        return self

    def add(self, report: SourceReport) -> None:
        self.reports[report.name] = report
        if self.on_source is not None:
            self.on_source(report)

    def of(self, names: Sequence[str]) -> list[SourceReport]:
        """In the order asked; a source whose crawl never closed counts nothing."""
        return [self.reports.get(n) or SourceReport(n) for n in names]


def crawl_exit_code(sources: Sequence[SourceReport]) -> ExitCode:
    return ExitCode.FAILED if any(s.failed for s in sources) else ExitCode.OK


def open_run(store: Store) -> int:
    """A new ``running`` run; runs left ``running`` by a killed pass become ``interrupted``.

    Call it with the pass lock held.
    """
    with store.transaction():
        store.close_interrupted_runs()
        return store.start_run()


def finish_run(
    store: Store, run_id: int, sources: Sequence[SourceReport], config: Config
) -> dict[str, SourceHealth]:
    """Close the run with its counts and record each source's health; returns that health."""
    store.finish_run(
        run_id,
        exit_code=int(crawl_exit_code(sources)),
        totals=RunTotals(
            fetched=sum(x.fetched for x in sources),
            new=sum(x.new for x in sources),
            duplicates=sum(x.duplicates for x in sources),
            relevant=sum(x.relevant for x in sources),
            errors=sum(x.error_count for x in sources),
        ),
        sources={x.name: asdict(x) for x in sources},
    )
    update_health(store, run_id, [x.health_input() for x in sources], config)
    states = store.health_states()
    return {
        x.name: SourceHealth(h.state, h.bad_passes)
        for x in sources
        if (h := states.get(x.name)) is not None
    }
