"""What ``newswatch run`` prints while and after it works, on a terminal and under cron.

On a terminal a person watches: a live table of the sources (rich) while they are
crawled, then the pass table and the new relevant titles. Under cron every line of
output becomes mail: one summary line on stdout after a line for each source in trouble,
and on stderr one line per source in trouble (Scrapy's own log is cut to one line per
failure: ``crawler.passes.QuietLog``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.passtable import errors_text, stopped, summary_line, trouble

if TYPE_CHECKING:
    from crawler.passes import PassReport, SourceHealth, SourceReport

__all__ = [
    "LiveSources",
    "print_new_relevant",
    "print_unattended",
    "setup_logging",
    "source_line",
    "summary_line",
]

LOG_FORMAT = "newswatch: %(levelname)s %(message)s"
_OWN_LOGGERS = ("crawler", "pipelines")


def setup_logging(verbose: bool) -> None:
    """Our own loggers in our own short format, on stderr; Scrapy keeps its own handler
    (at WARNING unless ``--verbose``, see ``crawl_settings``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for name in _OWN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO if verbose else logging.WARNING)
        logger.propagate = False  # Scrapy's root handler would print each line twice


def source_line(s: SourceReport, health: SourceHealth | None = None) -> str:
    """``bladi: 24 requests, 11 new, 3 relevant, 0 errors``, + FAILED or NO ARTICLE and
    why when the source is in trouble (see :func:`crawler.cli.passtable.trouble`)."""
    problem = trouble(s, health)
    errors = errors_text(s.errors)
    state = f" {problem}" if problem else f" ({errors})" if errors else ""
    stop = stopped(s)
    return (
        f"{s.name}: {s.requests} requests, {s.new} new, {s.relevant} relevant,"
        f" {s.error_count} errors{state}" + (f"; {stop}" if stop else "")
    )


def print_unattended(report: PassReport) -> None:
    """The cron form: sources in trouble or stopped early (their line starts with the
    name), then one summary line; the trouble again on stderr."""
    for s in report.sources:
        health = report.health.get(s.name)
        if stopped(s) and not trouble(s, health):
            click.echo(source_line(s, health))
        elif trouble(s, health):
            click.echo(source_line(s, health))
            click.echo(f"newswatch: ERROR {source_line(s, health)}", err=True)
    click.echo(summary_line(report))


class LiveSources:
    """A live table of the pass's sources, redrawn twice a second while they are crawled
    (``crawler.passes.run_pass(on_tick=...)``) and cleared when the pass ends, before the
    pass table is printed."""

    def __init__(self, names: Sequence[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.names = list(names)
        self.state: dict[str, tuple[SourceReport, bool]] = {}
        self.live = Live(self._table(), console=Console(), refresh_per_second=4, transient=True)

    def __enter__(self) -> LiveSources:
        self.live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.__exit__(kind, exc, tb)

    def tick(self, state: Mapping[str, tuple[SourceReport, bool]]) -> None:
        self.state = dict(state)
        self.live.update(self._table())

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="newswatch run", title_justify="left", box=None, pad_edge=False)
        for column in ("source", "state", "requests", "new", "relevant", "errors"):
            table.add_column(column, justify="left" if column in ("source", "state") else "right")
        for name in self.names:
            report, done = self.state.get(name, (None, False))
            if report is None:
                table.add_row(name, "[dim]waiting[/dim]", "", "", "", "")
                continue
            problem = trouble(report)
            status = (
                f"[bold red]{problem}[/bold red]"
                if problem
                else ("[green]done[/green]" if done else "[cyan]crawling[/cyan]")
            )
            table.add_row(
                name,
                status,
                str(report.requests),
                str(report.new),
                str(report.relevant),
                str(report.error_count),
            )
        return table


def print_new_relevant(rows: Sequence[Mapping[str, Any]]) -> None:
    """The titles of the new relevant articles of the pass, after its table."""
    if not rows:
        click.echo("no new relevant article")
        return
    click.echo(f"{len(rows)} new relevant article(s):")
    for r in rows:
        click.echo(f"  [{r['source']}/{r['lang']}] {r['title'] or r['url']}")
        click.echo(f"      {r['url']}")
