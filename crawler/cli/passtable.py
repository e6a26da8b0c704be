"""The per-source table a person (or a cron mail) reads after ``newswatch run``.

(``newswatch report``, the period report, is ``crawler/cli/report.py``.)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from crawler.passes import PassReport, SourceHealth, SourceReport

_COLUMNS = (
    "source",
    "requests",
    "304",
    "fetched",
    "new",
    "dup",
    "relevant",
    "not-art",
    "known",
    "errors",
    "status",
)


def print_pass(report: PassReport) -> None:
    """The table, one summary line, and what to run for each source in trouble."""
    rows = [_row(s, report.health.get(s.name)) for s in report.sources]
    for line in table(_COLUMNS, rows, left={0, 10}):
        click.echo(line)
    click.echo(summary_line(report))
    for s in report.sources:
        if trouble(s):
            click.echo(f"see why: newswatch sources check {s.name}")


# A crawl closed before it was done (crawler/stats.py): what is fetched is stored, the rest
# waits for the next pass.
_STOPPED = {
    "pass_timeout": "stopped at the pass deadline",
    "source_timeout": "stopped after its time budget",
    "shutdown": "stopped by a signal",
}


def stopped(s: SourceReport) -> str | None:
    """``stopped at the pass deadline`` when the source's crawl was closed early, or None."""
    return _STOPPED.get(s.stopped)


def trouble(s: SourceReport, health: SourceHealth | None = None) -> str | None:
    """What is wrong with a source after a pass, in a few words, or None when nothing is.

    ``FAILED``: none of its feeds, sitemaps or start pages could be read (exit code 1).
    ``NO ARTICLE``: they were read, but errors kept every article out (every article page
    a 503, a feed of dead links). Either is a bad pass for source health, whose count and
    state follow.
    """
    if s.failed:
        label = "FAILED"
    elif s.bad:
        label = "NO ARTICLE"
    else:
        return None
    detail = errors_text(s.errors)
    if health is not None and health.bad_passes > 1:
        detail += f"; {health.bad_passes} bad passes in a row"
    if health is not None and health.state == "failing":
        detail += "; source failing, operator notified"
    return f"{label} ({detail})"


def summary_line(report: PassReport) -> str:
    """One line for the whole pass; sources in trouble are named at its end."""
    sources = report.sources
    line = (
        f"run {report.run_id}: {len(sources)} source(s), {sum(s.requests for s in sources)}"
        f" requests, {sum(s.new for s in sources)} new, {sum(s.relevant for s in sources)}"
        f" relevant, {sum(s.alerts_queued for s in sources)} alert(s) queued,"
        f" {sum(s.error_count for s in sources)} error(s)"
    )
    troubled = [
        f"{s.name} {problem}" for s in sources if (problem := trouble(s, report.health.get(s.name)))
    ]
    stops = [f"{s.name} {stop}" for s in sources if (stop := stopped(s))]
    return "; ".join([line, *troubled, *stops])


def table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], left: Collection[int] = (0,)
) -> list[str]:
    """Lines of a plain-text table: numbers right-aligned, the ``left`` columns left."""
    cells = [[str(v) for v in r] for r in [columns, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return [
        "  ".join(
            v.ljust(w) if i in left else v.rjust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in cells
    ]


def errors_text(errors: dict[str, int]) -> str:
    """``refused 2, timeout 1``: error kinds by name, for a status column."""
    return ", ".join(f"{k} {v}" for k, v in sorted(errors.items()) if v)


def _row(s: SourceReport, health: SourceHealth | None) -> tuple[object, ...]:
    errors = errors_text(s.errors)
    status = trouble(s, health) or (f"ok ({errors})" if errors else "ok")
    if stop := stopped(s):
        status += f"; {stop}"
    return (
        s.name,
        s.requests,
        s.not_modified,
        s.fetched,
        s.new,
        s.duplicates,
        s.relevant,
        s.not_articles,
        s.known,
        s.error_count,
        status,
    )
