"""``newswatch export``: the stored articles as JSON lines, CSV or Parquet, filtered."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError
from pipelines.report.period import parse_day
from pipelines.store.queries import ArticleFilter

PARQUET_HINT = "Parquet needs pyarrow: pip install 'newswatch[parquet]'"


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
    help="CSV is UTF-8 with a byte-order mark (spreadsheets keep the accents).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output (required for parquet).",
)
@click.option("--since", metavar="DAY", help="From this day: 2026-11-01, or 30d (days ago).")
@click.option("--until", metavar="DAY", help="Up to this day, included: 2026-11-30, or 7d.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Repeatable.")
@click.option("--topic", "topics", multiple=True, metavar="NAME", help="Matched this topic.")
@click.option("--lang", "langs", multiple=True, metavar="CODE", help="fr, nl, en... Repeatable.")
@click.option("--relevant", is_flag=True, help="Only articles that matched a topic.")
@click.option("--exclude-copies", is_flag=True, help="Leave out copies (duplicate_of set).")
@click.option("--with-seeds", is_flag=True, help="Include the seed corpus.")
@pass_state
@fail_cleanly
def export(
    state: State,
    fmt: str,
    output: Path | None,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
    topics: tuple[str, ...],
    langs: tuple[str, ...],
    relevant: bool,
    exclude_copies: bool,
    with_seeds: bool,
) -> None:
    """Export stored articles, every documented column (docs/dataset.md).

    Days compare the publication date (the storage date of an article without one), both
    ends included. `topics` is a JSON list in JSON lines and Parquet, JSON text in CSV.

    \b
    Example:
        newswatch export --format csv -o articles.csv
        newswatch export --since 30d --topic morocco-israel-defence --exclude-copies
        newswatch export --format parquet -o articles.parquet --lang fr --lang nl
    """
    chosen = ArticleFilter(
        since=parse_day(since, "--since") if since else None,
        until=parse_day(until, "--until") if until else None,
        sources=sources,
        topics=topics,
        langs=langs,
        relevant_only=relevant,
        exclude_copies=exclude_copies,
        with_seeds=with_seeds,
    )
    if fmt == "parquet":
        if output is None:
            raise UsageError("--format parquet writes a file: add -o FILE.parquet")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError(PARQUET_HINT) from None
    with open_existing_store(state) as store:
        columns = store.export_columns()
        rows = list(store.iter_articles(chosen))
    if fmt == "parquet":
        assert output is not None
        write_parquet(output, columns, rows)
    else:
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        out = output.open("w", encoding=encoding, newline="") if output else sys.stdout
        try:
            (write_csv if fmt == "csv" else write_jsonl)(out, columns, rows)
        finally:
            if output:
                out.close()
    if output:
        click.echo(f"{len(rows)} article(s) written to {output}", err=True)


def write_jsonl(out: IO[str], columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    for r in rows:
        r["topics"] = json.loads(r["topics"] or "[]")
        out.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_csv(out: IO[str], columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    if out is sys.stdout:
        out.write("\ufeff")  # the byte-order mark a spreadsheet reads as UTF-8 (a file
        # opened as utf-8-sig writes its own)
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)


def write_parquet(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"id": pa.int64(), "duplicate_of": pa.int64(), "relevant": pa.int64()}
    types |= {"overlap": pa.float64(), "story_id": pa.int64()}
    match = pa.struct(
        [
            ("topic", pa.string()),
            ("score", pa.float64()),
            ("snippet", pa.string()),
            ("terms", pa.map_(pa.string(), pa.list_(pa.string()))),
            ("kind", pa.string()),
            ("why", pa.string()),
        ]
    )
    fields = []
    for c in columns:
        kind = pa.list_(match) if c == "topics" else types.get(c, pa.string())
        fields.append(pa.field(c, kind))
    data: dict[str, list[Any]] = {c: [] for c in columns}
    for r in rows:
        for c in columns:
            value = r[c]
            if c == "topics":
                value = [_match_fields(m) for m in json.loads(value or "[]")]
            data[c].append(value)
    pq.write_table(pa.table(data, schema=pa.schema(fields)), path)


def _match_fields(m: dict[str, Any]) -> dict[str, Any]:
    """A stored match as the Parquet struct (terms: group -> matched terms)."""
    return {
        "topic": m.get("topic"),
        "score": m.get("score"),
        "snippet": m.get("snippet"),
        "terms": m.get("terms") or {},
        "kind": m.get("kind"),
        "why": m.get("why"),
    }
