"""What ``newswatch run`` prints while and after it works, on a terminal and under cron.

On a terminal a person watches: one line per source as its crawl finishes, then the table.
Under cron every line of output becomes mail: one summary line on stdout, a line for each
source that failed, and the errors on stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click

from crawler.cli.report import errors_text, stopped, summary_line, trouble

if TYPE_CHECKING:
    from crawler.passes import PassReport, SourceHealth, SourceReport

__all__ = ["print_progress", "print_unattended", "setup_logging", "source_line", "summary_line"]

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
    why when the source is in trouble (see :func:`crawler.cli.report.trouble`)."""
    problem = trouble(s, health)
    errors = errors_text(s.errors)
    state = f" {problem}" if problem else f" ({errors})" if errors else ""
    stop = stopped(s)
    return (
        f"{s.name}: {s.requests} requests, {s.new} new, {s.relevant} relevant,"
        f" {s.error_count} errors{state}" + (f"; {stop}" if stop else "")
    )


def print_progress(s: SourceReport) -> None:
    click.echo(source_line(s))


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
