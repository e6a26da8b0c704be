"""``newswatch topics suggest``: changes that would settle the analyst's disagreements."""

from __future__ import annotations

import json

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError
from pipelines.topics.eval import Scores, load_bundled


@click.command("suggest")
@click.option("--topic", "topic_name", help="The topic to tune (default: the first configured).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, help="Most changes listed.")
@click.option("--json", "as_json", is_flag=True, help="Print the suggestions as JSON.")
@pass_state
@fail_cleanly
def suggest(state: State, topic_name: str | None, limit: int, as_json: bool) -> None:
    """List the terms and exclusions that would fix most disagreements with the analyst.

    The analyst's labels (`newswatch feedback`) where the rules disagree are tried
    against candidate changes: adding a word of a missed article to the group it lacked,
    removing the exclusion term that dropped it, adding a word of a false alarm to an
    exclude list, removing the term it matched on. Each change is measured on every
    labelled article (the shipped sets and the labels): precision and recall before and
    after. Nothing is applied; copy a change into newswatch.toml to adopt it.

    \b
    Example:
        newswatch topics suggest
        newswatch topics suggest --topic morocco-israel-defence --limit 5 --json
    """
    from crawler.cli.topics import configured_topics
    from pipelines.topics.learn import labelled_feedback
    from pipelines.topics.learn import suggest as find

    chosen = configured_topics(state, (topic_name,) if topic_name else ())[0]
    with open_existing_store(state) as store:
        rows = store.feedback([chosen.name])
    if not rows:
        raise UsageError(
            f"no feedback yet for topic {chosen.name}; label articles with "
            "`newswatch feedback ARTICLE --relevant` or `--not-relevant`"
        )
    before, found = find(chosen, load_bundled(), labelled_feedback(rows), limit=limit)
    if as_json:
        out = {
            "topic": chosen.name,
            "labels": len(rows),
            "before": before.to_dict(),
            "suggestions": [
                {
                    "change": s.change,
                    "fixes": s.fixes,
                    "breaks": s.breaks,
                    "after": s.after.to_dict(),
                }
                for s in found
            ],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"topic {chosen.name}: {len(rows)} labels; all labelled articles now {_pr(before)}")
    if not found:
        click.echo("no single change settles a disagreement (or there is none)")
        return
    for s in found:
        broken = f", breaks {s.breaks}" if s.breaks else ""
        click.echo(f"  {s.change}: fixes {s.fixes}{broken} — {_pr(s.after)}")
    click.echo("nothing was changed; copy a change into newswatch.toml to adopt it")


def _pr(s: Scores) -> str:
    return f"precision {s.precision:.3f} recall {s.recall:.3f}"
