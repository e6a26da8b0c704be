"""``newswatch report``: the period report (HTML with charts, or Markdown).

The per-source table printed after a pass lives in ``crawler/cli/passtable.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError


@click.command()
@click.option(
    "--since", default="30d", show_default=True, metavar="DAY", help="2026-11-01, or 30d."
)
@click.option("--until", metavar="DAY", help="Last day, included (default: today).")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.option(
    "--no-scores", is_flag=True, help="Leave out the topics' scores on the labelled sets."
)
@pass_state
@fail_cleanly
def report(
    state: State, since: str, until: str | None, fmt: str, output: Path | None, no_scores: bool
) -> None:
    """The period report: relevant items per day by language and by source, the top
    stories (or items), source health, and the topics' precision and recall.

    HTML is one self-contained file (inline SVG charts, no script, nothing fetched):
    mail it, or open it offline. Days compare the publication date.

    \b
    Example:
        newswatch report --since 30d -o report.html
        newswatch report --since 2026-11-01 --until 2026-11-30 --format md
    """
    from pipelines.report import gather
    from pipelines.report.period import parse_day, today

    first = parse_day(since, "--since")
    last = parse_day(until, "--until") if until else today().isoformat()
    if first > last:
        raise UsageError(f"--since {first} is after --until {last}")
    config = state.config
    with open_existing_store(state) as store:
        data = gather(store, first, last, config.topics, with_scores=not no_scores)
    if fmt == "md":
        from pipelines.report.markdown import render_markdown

        text = render_markdown(data)
    else:
        from pipelines.report.html import render_html

        text = render_html(data)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(
        f"report written to {output}: {data.since} to {data.until},"
        f" {data.relevant_total} relevant item(s)",
        err=True,
    )
