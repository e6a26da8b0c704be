"""``newswatch feed``: an Atom feed of the latest matches."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, pass_state


@click.command()
@click.option("--topic", "topic", metavar="NAME", help="The topic (needed with several).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the feed to this file (default: standard output).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@pass_state
@fail_cleanly
def feed(state: State, topic: str | None, output: Path | None, limit: int) -> None:
    """Write an Atom feed of the latest relevant items (one entry per story when there are
    stories), for a feed reader. Entry ids stay the same from one run to the next.

    \b
    Example:
        newswatch feed --topic morocco-israel -o matches.xml
    """
    from crawler.cli.common import open_existing_store
    from pipelines.feed import build_feed

    with open_existing_store(state) as store:
        document = build_feed(store, state.config, topic, limit)
    if output is None:
        sys.stdout.buffer.write(document)
        return
    output.write_bytes(document)
    click.echo(f"feed written to {output}", err=True)
