"""The per-source summary a person (or a cron mail) reads after ``newswatch run``."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import click

from crawler.runner import PassReport, SourceReport

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
    for line in table(_COLUMNS, [_row(s) for s in report.sources], left={0, 10}):
        click.echo(line)
    new = sum(s.new for s in report.sources)
    relevant = sum(s.relevant for s in report.sources)
    queued = sum(s.alerts_queued for s in report.sources)
    click.echo(
        f"run {report.run_id}: {new} new article(s), {relevant} relevant, {queued} alert(s) queued"
    )


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


def _row(s: SourceReport) -> tuple[object, ...]:
    if s.failed:
        status = "FAILED: " + errors_text(s.errors)
    elif s.errors:
        status = "ok (" + errors_text(s.errors) + ")"
    else:
        status = "ok"
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
