"""Topics: which articles an analyst wants to hear about, and why each one matched.

A topic is data, written in ``newswatch.toml`` (the built-in default lives in
``default_topic.toml`` in the same shape)::

    [[topics]]
    name = "morocco-israel-defence"      # stored with each match; unique
    title = "Morocco–Israel defence"     # human label for email subjects (default: name)
    recipients = []                      # empty: the global [alerts] to
    min_score = 10.0                     # evidence needed (default 0)
    min_group_score = 3.0                # evidence needed from each group (default 0)
    proximity = "paragraph"              # or a number of words
    term_cap = 3.0                       # most points one term can add (default 3)

    [topics.groups]                      # ALL groups must match; ANY term within a group
    morocco = ["morocco", "moroccan*", "FAR", "forces armées royales"]
    israel = ["israel", "israeli", "IDF", "Elbit"]
    defence = ["defence", "military", "drone*", "air defence", "Elbit"]

    [topics.exclude]                     # near-miss vocabularies that veto a weak match
    tourism = ["tourist*", "hotel*"]
    war = ["gaza*", "ceasefire"]

    [topics.vetoes]                      # optional: what an exclude list competes with
    war = { against = "defence", factor = 1.4 }

    [topics.weights]                     # points per occurrence, by where it is
    title = 3.0
    lead = 2.0                           # the first 50 words of the text
    body = 1.0

How an article is judged (term syntax is in ``topic_rules``):

1. Every occurrence of a term earns the weight of its field. A term listed in two groups
   (``Elbit`` is Israeli *and* defence) counts for both.
2. An occurrence counts only when every group has a term near it: in the same paragraph
   or, with ``proximity = N``, within N words. Two countries named in different parts of
   a long article are not evidence that they cooperate. The title states what the whole
   article is about, so its terms are near every paragraph; the paragraphs that start in
   the lead (the first 50 words, often a dateline and a first sentence) count as one.
3. The score is the sum of counted points, each term capped at ``term_cap`` so one word
   repeated ten times cannot carry an article. It must reach ``min_score``, and each
   group's share must reach ``min_group_score``: a country named once in the body earns
   1 point, which is a passing mention, not a subject.
4. Each exclude list is scored over the whole article the same way. When one scores more
   than the weakest group, the article is about that other thing (a tourism story that
   says "military" once) and does not match. A list named in ``[topics.vetoes]`` competes
   with the group given as ``against`` instead, and must score more than ``factor``
   times it: war coverage is often the backdrop of a defence story, and drops it only
   when the war outweighs the defence evidence clearly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from pipelines.errors import ConfigError
from pipelines.models import Article, Match
from pipelines.topics.reader import Topic, _Reader
from pipelines.topics.rules import Document, read_document
from pipelines.topics.scoring import FieldWeights, Veto, judge, may_match

__all__ = ["FieldWeights", "Topic", "Veto", "default_topics", "load_topics", "match_topics"]

DEFAULT_TOPIC_FILE = "default_topic.toml"


def match_topics(article: Article, topics: Sequence[Topic]) -> list[Match]:
    """Return a Match for each topic the article matched, in the order of ``topics``.

    The article is folded and cut into words once and shared by all topics.
    """
    if not topics:
        return []
    doc = read_document(article.title or "", article.text, article.lang)
    judged = (_judge(doc, topic) for topic in topics)
    return [match for match in judged if match is not None]


def _judge(doc: Document, topic: Topic) -> Match | None:
    """Judge one topic; paragraph languages are worked out only if the groups may meet."""
    if not topic.index.scoped:
        return judge(doc, topic.index.scan(doc), topic)
    if not may_match(doc, topic.index.scan(doc, languages=False), topic):
        return None
    return judge(doc, topic.index.scan(doc), topic)


def default_topics() -> list[Topic]:
    """The built-in topic, used when ``newswatch.toml`` declares no ``[[topics]]``."""
    return list(_load_default())


@lru_cache(maxsize=1)
def _load_default() -> tuple[Topic, ...]:
    return tuple(load_topics(_default_tables(), path=f"pipelines/{DEFAULT_TOPIC_FILE}"))


@lru_cache(maxsize=1)
def _default_tables() -> list[dict[str, Any]]:
    text = resources.files("pipelines.topics").joinpath(DEFAULT_TOPIC_FILE).read_text("utf-8")
    tables: list[dict[str, Any]] = tomllib.loads(text).get("topics", [])
    return tables


def _with_default_rules(table: object) -> object:
    """A [[topics]] table without ``groups`` borrows the built-in topic's rules.

    So ``name``, ``title`` or ``recipients`` alone give a topic of one's own (its name in
    the dataset, its own recipients) that matches like the built-in one.
    """
    if not isinstance(table, dict) or "groups" in table:
        return table
    rules = {k: v for k, v in _default_tables()[0].items() if k not in ("name", "title")}
    return {**rules, **table}


def load_topics(raw: list[dict[str, Any]], *, path: str) -> list[Topic]:
    """Validate the ``[[topics]]`` tables parsed from TOML and compile their terms.

    Every problem raises ConfigError naming the file, the dotted key (``topics[1].groups.
    israel[3]``) and the topic, so a typo in one term is found without guessing.
    """
    if not isinstance(raw, list):
        raise ConfigError(path, "topics", "expected a list of [[topics]] tables")
    topics: list[Topic] = []
    for number, table in enumerate(raw):
        topic = _Reader(path, f"topics[{number}]", _with_default_rules(table)).topic()
        if any(t.name == topic.name for t in topics):
            raise ConfigError(
                path, f"topics[{number}].name", f"duplicate topic name {topic.name!r}"
            )
        topics.append(topic)
    return topics
