"""The per-source summary a person (or a cron mail) reads after ``newswatch run``."""

from __future__ import annotations

import click

from crawler.runner import PassReport, SourceReport

_COLUMNS = (
    "source",
    "requests",
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
    rows = [_row(s) for s in report.sources]
    widths = [max(len(str(r[i])) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    for r in [_COLUMNS, *rows]:
        click.echo(
            "  ".join(
                str(v).ljust(w) if i in (0, 9) else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    new = sum(s.new for s in report.sources)
    relevant = sum(s.relevant for s in report.sources)
    queued = sum(s.alerts_queued for s in report.sources)
    click.echo(
        f"run {report.run_id}: {new} new article(s), {relevant} relevant, {queued} alert(s) queued"
    )


def _row(s: SourceReport) -> tuple[object, ...]:
    if s.failed:
        status = "FAILED: " + ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items()))
    elif s.errors:
        status = "ok (" + ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items())) + ")"
    else:
        status = "ok"
    return (
        s.name,
        s.requests,
        s.fetched,
        s.new,
        s.duplicates,
        s.relevant,
        s.not_articles,
        s.known,
        s.error_count,
        status,
    )
