"""The period report: what the dataset saw over some days, for a person to read.

:func:`gather` reads the dataset (through the store's named queries) and the topics'
scores on their labelled sets into a :class:`Report`; ``pipelines/report/html.py`` renders
it as one self-contained HTML file (inline SVG charts, inline CSS, no script, nothing
fetched), ``pipelines/report/markdown.py`` as text. No Scrapy here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipelines.clock import utcnow
from pipelines.report.period import days_between

if TYPE_CHECKING:
    from pipelines.store import Store
    from pipelines.topics import Topic

__all__ = ["Report", "TopicScores", "gather"]

TOP_ITEMS = 15


@dataclass(frozen=True)
class TopicScores:
    """A topic's figures on one labelled set."""

    topic: str
    labelled_set: str
    items: int
    relevant: int
    precision: float
    recall: float


@dataclass
class Report:
    """Everything the report shows, already counted."""

    title: str
    since: str
    until: str
    generated_at: str
    days: list[str]
    by_lang: dict[str, dict[str, int]]  # lang -> day -> relevant items
    by_source: dict[str, dict[str, int]]  # source -> day -> relevant items
    top_items: list[dict[str, Any]]
    stories: list[dict[str, Any]] | None  # None: the dataset has no stories
    sources: list[dict[str, Any]]  # per source: passes, requests, errors, articles...
    passes: int
    scores: list[TopicScores] = field(default_factory=list)

    @property
    def relevant_total(self) -> int:
        return sum(sum(per_day.values()) for per_day in self.by_lang.values())


def gather(
    store: Store,
    since: str,
    until: str,
    topics: Sequence[Topic] = (),
    *,
    title: str = "newswatch report",
    with_scores: bool = True,
) -> Report:
    """Count the period ``since``..``until`` (ISO days, both included)."""
    by_lang: dict[str, Counter[str]] = {}
    by_source: dict[str, Counter[str]] = {}
    for row in store.relevant_by_day(since, until):
        by_lang.setdefault(row["lang"] or "?", Counter())[row["day"]] += row["items"]
        by_source.setdefault(row["source"], Counter())[row["day"]] += row["items"]
    return Report(
        title=title,
        since=since,
        until=until,
        generated_at=utcnow(),
        days=days_between(since, until),
        by_lang={k: dict(v) for k, v in sorted(by_lang.items())},
        by_source={k: dict(v) for k, v in sorted(by_source.items())},
        top_items=store.top_relevant(since, until, TOP_ITEMS),
        stories=_readable(store.top_stories(since, until, TOP_ITEMS)),
        sources=store.source_activity(since, until),
        passes=store.pass_count(since, until),
        scores=topic_scores(topics) if with_scores else [],
    )


def _readable(stories: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Stories with their JSON lists of outlets and languages as ``a, b``."""
    if stories is None:
        return None
    for story in stories:
        for key in ("sources", "languages"):
            try:
                value = json.loads(story.get(key) or "[]")
            except ValueError:
                continue
            if isinstance(value, list):
                story[key] = ", ".join(str(v) for v in value)
    return stories


def topic_scores(topics: Sequence[Topic]) -> list[TopicScores]:
    """Each topic's precision and recall on each labelled set shipped with newswatch."""
    from pipelines.topics.eval import BUNDLED_SETS, bundled_set_text, evaluate, parse_labelled

    scores = []
    for name in BUNDLED_SETS:
        items = parse_labelled(bundled_set_text(name), source=name)
        for topic in topics:
            total = evaluate(items, [topic]).by_language()["all"]
            scores.append(
                TopicScores(
                    topic.name,
                    name.removesuffix(".jsonl"),
                    total.items,
                    total.relevant,
                    total.precision,
                    total.recall,
                )
            )
    return scores
