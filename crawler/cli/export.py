"""``newswatch export``: the stored articles as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from pipelines.store import open_store
from pipelines.store.queries import EXPORT_COLUMNS


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.option("--relevant", is_flag=True, help="Only articles that matched a topic.")
@click.option("--with-seeds", is_flag=True, help="Include the seed corpus.")
@pass_state
@fail_cleanly
def export(state: State, fmt: str, output: Path | None, relevant: bool, with_seeds: bool) -> None:
    """Export stored articles as JSON lines or CSV.

    \b
    Example:
        newswatch export --format csv -o articles.csv
        newswatch export --relevant | jq -r .title
    """
    with open_store(state.config.store_path) as store:
        rows = store.export_articles(relevant_only=relevant, with_seeds=with_seeds)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            for r in rows:
                r["topics"] = json.loads(r["topics"] or "[]")
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if output:
            out.close()
            click.echo(f"{len(rows)} article(s) written to {output}", err=True)
