"""What ``newswatch run`` prints while and after it works, on a terminal and under cron.

On a terminal a person watches: one line per source as its crawl finishes, then the table.
Under cron every line of output becomes mail: one summary line on stdout, a line for each
source that failed, and the errors on stderr.
"""

from __future__ import annotations

import logging
import sys

import click

from crawler.runner import PassReport, SourceReport

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


def source_line(s: SourceReport) -> str:
    """``bladi: 24 requests, 11 new, 3 relevant, 0 errors`` (+ FAILED when it failed)."""
    errors = ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items()))
    state = f" FAILED: {errors}" if s.failed else f" ({errors})" if errors else ""
    return (
        f"{s.name}: {s.requests} requests, {s.new} new, {s.relevant} relevant,"
        f" {s.error_count} errors{state}"
    )


def print_progress(s: SourceReport) -> None:
    click.echo(source_line(s))


def summary_line(report: PassReport) -> str:
    sources = report.sources
    failed = [s.name for s in sources if s.failed]
    line = (
        f"run {report.run_id}: {len(sources)} source(s), {sum(s.requests for s in sources)}"
        f" requests, {sum(s.new for s in sources)} new, {sum(s.relevant for s in sources)}"
        f" relevant, {sum(s.alerts_queued for s in sources)} alert(s) queued,"
        f" {sum(s.error_count for s in sources)} error(s)"
    )
    return line + (f"; FAILED: {', '.join(failed)}" if failed else "")


def print_unattended(report: PassReport) -> None:
    """The cron form: failed sources (their line starts with the name), then one summary."""
    for s in report.sources:
        if s.failed:
            click.echo(source_line(s))
            click.echo(f"newswatch: ERROR {source_line(s)}", err=True)
    click.echo(summary_line(report))
