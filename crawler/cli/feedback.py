"""``newswatch feedback``: the analyst's label on an article."""

from __future__ import annotations

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError


@click.command()
@click.argument("article")
@click.option("--relevant/--not-relevant", default=None, help="The analyst's label (required).")
@click.option("--topic", "topic_name", help="The topic the label is about (default: see below).")
@click.option("--why", default="", help="A few words on why, kept with the label.")
@pass_state
@fail_cleanly
def feedback(
    state: State, article: str, relevant: bool | None, topic_name: str | None, why: str
) -> None:
    """Label a stored article relevant or not relevant, to measure and tune the topics.

    ARTICLE is the article's id (as in alerts and the dataset) or its URL. The label is
    about --topic, by default the topic the article matched (the first configured topic
    when it matched none). A new label replaces the earlier one of the same topic.
    `newswatch topics eval --feedback` measures the rules on the labels and `newswatch
    topics suggest` proposes changes (see docs/topics.md).

    \b
    Example:
        newswatch feedback 1234 --not-relevant --why "trade fair, not a deal"
        newswatch feedback 1234 --relevant --topic morocco-israel-defence
    """
    if relevant is None:
        raise UsageError("say --relevant or --not-relevant")
    from crawler.cli.topics import configured_topics

    names = [t.name for t in configured_topics(state, ())]
    if topic_name is not None and topic_name not in names:
        raise UsageError(f"no topic named {topic_name!r}; the topics are: {', '.join(names)}")
    with open_existing_store(state) as store:
        article_id = store.article_ref(article)
        if article_id is None:
            raise UsageError(f"no stored article {article!r} (give its id or its URL)")
        matched = [n for n in store.article_topic_names(article_id) if n in names]
        topic = topic_name or (matched[0] if matched else names[0])
        replaced = store.record_feedback(article_id, topic, relevant, why.strip())
    label = "relevant" if relevant else "not relevant"
    again = " (replacing the earlier label)" if replaced else ""
    click.echo(f"article {article_id}: {label} for topic {topic}{again}")
