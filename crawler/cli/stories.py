"""``newswatch stories``: the stories articles were grouped into."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError

if TYPE_CHECKING:
    from pipelines.models import Article

_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


@click.group()
def stories() -> None:
    """Stories: one event told by many outlets, in many languages."""


def _since(value: str) -> str:
    found = _SINCE.match(value.strip())
    if not found:
        raise UsageError(f"--since {value!r}: give a duration such as 12h, 7d or 4w")
    moment = datetime.now(UTC) - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    return moment.replace(microsecond=0).isoformat()


@stories.command("list")
@click.option("--since", default="7d", show_default=True, help="Stories with news this recent.")
@click.option("--relevant", is_flag=True, help="Only stories one of whose articles matched.")
@click.option("--json", "as_json", is_flag=True, help="Print the stories as JSON lines.")
@pass_state
@fail_cleanly
def list_(state: State, since: str, relevant: bool, as_json: bool) -> None:
    """List stories, the latest news first: articles, sources, languages, title.

    Stories are assigned when alerts are sent (each pass, `alerts send`); the migration
    that created them grouped what was stored before.

    \b
    Example:
        newswatch stories list
        newswatch stories list --since 30d --relevant
    """
    with open_existing_store(state) as store:
        rows = store.story_rows(_since(since), relevant=relevant)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no stories with news in the last {since}")
        return
    for row in rows:
        mark = "*" if row["relevant"] else " "
        langs = ",".join(row["languages"])
        click.echo(
            f"{row['id']:>6} {mark} {row['last_seen'][:10]}  {row['article_count']:>3} art."
            f" {len(row['sources']):>3} src  {langs:<14} {row['title'] or ''}"
        )


@stories.command("show")
@click.argument("story_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the story as JSON.")
@pass_state
@fail_cleanly
def show(state: State, story_id: int, as_json: bool) -> None:
    """Show one story: its articles, languages, and why each article joined.

    \b
    Example:
        newswatch stories show 12
        newswatch stories show 12 --json | jq '.articles[].why'
    """
    with open_existing_store(state) as store:
        story = store.story(story_id)
        if story is None:
            raise UsageError(f"no story {story_id}; `newswatch stories list` shows them")
        members = store.story_articles(story_id)
    if as_json:
        click.echo(json.dumps({**story, "articles": members}, ensure_ascii=False, indent=2))
        return
    click.echo(f"story {story_id}: {story['title']}")
    click.echo(
        f"  {story['article_count']} articles, {len(story['sources'])} sources,"
        f" languages {', '.join(story['languages']) or 'unknown'};"
        f" {story['first_seen'][:16]} .. {story['last_seen'][:16]}"
    )
    for m in members:
        lead = "lead " if m["id"] == story["lead_article_id"] else ""
        click.echo(
            f"\n  [{m['id']}] {lead}{m['lang'] or '?'} {m['source']}"
            f" {m['published'] or ''}\n    {m['title'] or ''}\n    {m['url']}"
        )
        click.echo(f"    why: {why(m)}")


def why(member: dict[str, Any]) -> str:
    """One line: how an article joined its story."""
    if member["via"] == "new":
        return "started the story"
    if member["via"] == "copy":
        return f"same text as [{member['matched_article_id']}]"
    parts = [f"score {member['score']:.2f} with [{member['matched_article_id']}]"]
    for name, label in (("entities", "entities"), ("amounts", "amounts"), ("dates", "dates")):
        if member[name]:
            parts.append(f"{label}: {', '.join(member[name])}")
    if member["text_similarity"]:
        parts.append(f"text similarity {member['text_similarity']:.2f}")
    parts.append(f"{member['days_apart']:.1f} days apart")
    return "; ".join(parts)


@stories.command("eval")
@click.option(
    "--set",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A labelled set (JSON lines); default: the one shipped with newswatch.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_state
@fail_cleanly
def eval_(state: State, path: Path | None, as_json: bool) -> None:
    """Measure story clustering on a labelled set: pairwise precision and recall, BCubed F1.

    The set's articles are stored in a temporary database in the order of the file and
    clustered as a pass would; the config's [stories] settings apply when a config is found.

    \b
    Example:
        newswatch stories eval
        newswatch stories eval --set my-stories.jsonl --json
    """
    from pipelines.config.stories import StoriesConfig
    from pipelines.stories.evaluate import evaluate

    settings = StoriesConfig()
    if state.config_path is not None or Path("newswatch.toml").is_file():
        settings = state.config.stories
    scores = evaluate(path, settings)
    if as_json:
        click.echo(json.dumps(scores.__dict__, indent=2))
        return
    click.echo(
        f"{scores.articles} articles, {scores.stories} labelled stories,"
        f" {scores.predicted} found\n"
        f"pairwise  precision {scores.pair_precision:.3f}  recall {scores.pair_recall:.3f}"
        f"  F1 {scores.pair_f1:.3f}\n"
        f"BCubed    precision {scores.bcubed_precision:.3f}  recall {scores.bcubed_recall:.3f}"
        f"  F1 {scores.bcubed_f1:.3f}"
    )


def story_for(state: State, article: Article) -> dict[str, Any] | None:
    """The stored story ``article`` would join now (``topics test``): ``story_id`` None
    when it would start its own; None when there is no config or database to read."""
    from pipelines.config import resolve_config_path
    from pipelines.stories.engine import would_join

    if state.config_path is None and not resolve_config_path(None).exists():
        return None
    if not state.config.store_url and not state.config.store_path.is_file():
        return None
    with open_existing_store(state) as store:
        return would_join(store, state.config.stories, article) or {"story_id": None}


def story_line(joined: dict[str, Any]) -> str:
    """What ``topics test`` says about the story an article would join."""
    if joined.get("story_id") is None:
        return "would start a new story (no stored story links to it)"
    return (
        f"would join story {joined['story_id']} ({joined['title']}):"
        f" {why({**joined, 'via': 'match'})}"
    )
