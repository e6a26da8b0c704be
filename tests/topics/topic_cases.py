"""Helpers of the topic tests: small topics and articles, and the labelled sets on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.models import Article
from pipelines.topics import Topic, load_topics, match_topics

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "data"
SEEDS = ROOT / "pipelines" / "seed_corpus"
# The labelled sets ship inside the package, so ``newswatch topics eval`` finds them on any
# install; the tests read the very same files.
EVAL = ROOT / "pipelines" / "topics" / "eval"
SETS = ("labelled.jsonl", "holdout.jsonl", "blind2.jsonl", "blind3.jsonl", "realworld.jsonl")


def article(text: str, title: str | None = None, lang: str | None = None) -> Article:
    return Article(url="https://example.org/a", title=title, text=text, lang=lang)


def make_topic(**table: Any) -> Topic:
    """A small topic: Morocco AND Israel, with no score floor unless a test sets one."""
    raw: dict[str, Any] = {
        "name": "t",
        "groups": {"morocco": ["morocco", "moroccan*", "FAR"], "israel": ["israel", "IDF"]},
    }
    raw.update(table)
    return load_topics([raw], path="test.toml")[0]


def matches(text: str, topic: Topic, title: str | None = None) -> bool:
    """Whether the article is alerted for the topic (a reaction kept as context is not)."""
    return any(m.kind == "match" for m in match_topics(article(text, title), [topic]))


def labelled(name: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for set_name in [name] if name else SETS:
        text = (EVAL / set_name).read_text("utf-8")
        rows += [json.loads(line) for line in text.splitlines() if line]
    return rows
