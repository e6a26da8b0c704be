"""Explain in full how one article scores against one topic, matched or not.

``match_topics`` keeps only what an alert needs (score, words per group, snippet) and
stops early on the common case of an article that does not match. An analyst asking
"why did this match?" or "why was this missed?" wants every step: which terms were
found where, whether the groups met, the score against its minimum and the exclusions
hit. This module replays the same arithmetic (``topic_scoring``) and records it, so the
verdict here always agrees with ``match_topics``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.models import Article, Match
from pipelines.topics.matching import Topic
from pipelines.topics.quotes import Quoter
from pipelines.topics.rules import Document, Hit, read_document
from pipelines.topics.scoring import (
    EXCLUDE,
    GROUP,
    LEAD_WORDS,
    WEAKEST,
    _best_passage,
    _capped,
    _counted,
    _label_scores,
    _unit,
    _weight,
    in_headline,
    judge,
    one_entity,
    veto,
)

__all__ = ["Explanation", "TermScore", "ListScore", "explain", "explain_all"]


@dataclass
class TermScore:
    """One configured term: where it was found and what it earned."""

    term: str  # as configured
    words: list[str] = field(default_factory=list)  # as the article spells it
    fields: dict[str, int] = field(default_factory=dict)  # title/lead/body -> occurrences
    points: float = 0.0  # after the term cap, counting only occurrences near the other groups
    far: int = 0  # occurrences too far from the other groups to count
    capped: bool = False  # the occurrences were worth more than ``term_cap``


@dataclass
class ListScore:
    """A group (or an exclude list) and its terms."""

    name: str
    score: float
    terms: list[TermScore]


@dataclass
class Explanation:
    topic: str
    matched: bool
    verdict: str  # one sentence: why it matched, or the first rule that failed
    score: float
    min_score: float
    min_group_score: float
    proximity: str  # "paragraph" or "N words"
    groups_meet: str  # where every group was found together, or "nowhere"
    groups: list[ListScore]
    exclusions: list[ListScore]
    snippet: str
    match: Match | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_all(article: Article, topics: Sequence[Topic]) -> list[Explanation]:
    doc = read_document(article.title or "", article.text, article.lang)
    return [explain_document(doc, topic) for topic in topics]


def explain(article: Article, topic: Topic) -> Explanation:
    return explain_document(read_document(article.title or "", article.text, article.lang), topic)


def explain_document(doc: Document, topic: Topic) -> Explanation:
    hits = one_entity(doc, topic.index.scan(doc), topic.groups, topic.weights)
    units = [_unit(doc, hit, topic.proximity) for hit in hits]
    counted = _counted(doc, hits, units, topic.groups, topic.proximity)
    points = [_weight(doc, hit, topic.weights) for hit in hits]
    kept = _capped(hits, points, counted, topic.term_cap)
    group_scores = _label_scores(hits, kept)
    every = _capped(hits, points, range(len(hits)), topic.term_cap)
    exclude_scores = _label_scores(hits, every)
    quoter = Quoter(doc)
    groups = [
        ListScore(g, group_scores[GROUP + g], _terms(doc, quoter, topic, hits, GROUP + g, counted))
        for g in topic.groups
    ]
    exclusions = [
        ListScore(x, exclude_scores[EXCLUDE + x], _terms(doc, quoter, topic, hits, EXCLUDE + x))
        for x in topic.exclude
    ]
    score = round(sum(kept.values()), 2) if counted else 0.0
    match = judge(doc, hits, topic)
    headline = in_headline(doc, hits, topic.groups)
    verdict = _verdict(topic, groups, exclusions, bool(counted), score, headline)
    verdict += _reaction_note(match)
    return Explanation(
        topic=topic.name,
        matched=match is not None,
        verdict=verdict,
        score=score,
        min_score=topic.min_score,
        min_group_score=topic.min_group_score,
        proximity="paragraph" if topic.proximity == "paragraph" else f"{topic.proximity} words",
        groups_meet=_where_groups_meet(doc, topic, hits, units, counted),
        groups=groups,
        exclusions=[x for x in exclusions if x.terms],
        snippet=match.snippet if match else _snippet(quoter, hits, units, points, topic),
        match=match,
    )


def _terms(
    doc: Document,
    quoter: Quoter,
    topic: Topic,
    hits: Sequence[Hit],
    label: str,
    counted: Sequence[int] | None = None,
) -> list[TermScore]:
    """Per term of one list: spellings, fields, capped points of what counted."""
    near = set(range(len(hits)) if counted is None else counted)
    found: dict[int, TermScore] = {}
    raw: dict[int, float] = defaultdict(float)
    for i, hit in enumerate(hits):
        if label not in hit.labels:
            continue
        entry = found.setdefault(hit.term, TermScore(topic.index.terms[hit.term].source))
        spelled = quoter.words(hit.start, hit.end)
        if spelled not in entry.words:
            entry.words.append(spelled)
        where = _field(doc, hit)
        entry.fields[where] = entry.fields.get(where, 0) + 1
        if i in near:
            raw[hit.term] += _weight(doc, hit, topic.weights)
        else:
            entry.far += 1
    for number, entry in found.items():
        entry.points = min(topic.term_cap, raw[number])
        entry.capped = raw[number] > topic.term_cap
    return sorted(found.values(), key=lambda t: (-t.points, t.term))


def _field(doc: Document, hit: Hit) -> str:
    if hit.start < doc.title_words:
        return "title"
    return "lead" if hit.start < doc.title_words + LEAD_WORDS else "body"


def _verdict(
    topic: Topic,
    groups: list[ListScore],
    exclusions: list[ListScore],
    near: bool,
    score: float,
    headline: bool = False,
) -> str:
    """The first rule (in the order ``judge`` applies them) that the article fails."""
    absent = [g.name for g in groups if not g.terms]
    if absent:
        return f"no term of group {absent[0]!r} in the article"
    if not near:
        where = "one paragraph" if topic.proximity == "paragraph" else f"{topic.proximity} words"
        return f"the groups are never found together within {where}"
    if score < topic.min_score:
        return f"score {score:g} is below min_score {topic.min_score:g}"
    weakest = min(groups, key=lambda g: g.score)
    if weakest.score < topic.min_group_score:
        return (
            f"group {weakest.name!r} scores {weakest.score:g}, "
            f"below min_group_score {topic.min_group_score:g}"
        )
    found = veto(
        {EXCLUDE + x.name: x.score for x in exclusions},
        {GROUP + g.name: g.score for g in groups},
        topic,
        headline=headline,
    )
    if found:
        name, points, against, bar = found
        core = "the topic's evidence" if headline else "the topic's core (score per group)"
        rival = {None: core, WEAKEST: "the weakest group"}.get(against, f"group {against!r}")
        factor = topic.vetoes[name].factor if name in topic.vetoes else 1.0
        times = "" if factor == 1.0 else f"{factor:g} × "
        return f"excluded: {name!r} scores {points:g}, more than {times}{rival} ({bar:g})"
    return f"matched: score {score:g} >= {topic.min_score:g}, every group present and near"


def _reaction_note(match: Match | None) -> str:
    """What the verdict adds for a reaction: how the topic's policy treats it."""
    if match is None or not match.why.startswith("reaction"):
        return ""
    shown = "kept as context, not alerted" if match.kind == "reaction" else "alerted"
    return f"; a {match.why.split(' — ')[0]}, {shown}"


def _where_groups_meet(
    doc: Document, topic: Topic, hits: Sequence[Hit], units: Sequence[int], counted: Sequence[int]
) -> str:
    if not counted:
        return "nowhere"
    body = [i for i in counted if hits[i].start >= doc.title_words]
    if not body:
        return "in the title, which names every group"
    if topic.proximity != "paragraph":
        return f"{len(body)} occurrences with every group within {topic.proximity} words"
    places = sorted({units[i] for i in body})
    return ", ".join("title and lead" if unit == 0 else f"paragraph {unit}" for unit in places)


def _snippet(
    quoter: Quoter, hits: Sequence[Hit], units: Sequence[int], points: Sequence[float], topic: Topic
) -> str:
    grouped = [
        i for i, hit in enumerate(hits) if any(label.startswith(GROUP) for label in hit.labels)
    ]
    if not grouped:
        return ""
    start, end = _best_passage(
        [hits[i] for i in grouped],
        [units[i] for i in grouped],
        [points[i] for i in grouped],
        topic.groups,
    )
    return quoter.snippet(start, end)
