"""Turn the term hits of one topic into a decision, a score and an explanation.

The rules are described in ``pipelines.topics``; this module is their arithmetic. It works
on word numbers only and goes back to the original characters (for the snippet and the
matched words) only when an article has matched, which is rare, so the common case stays
cheap.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from pipelines.models import Match
from pipelines.topics.quotes import Quoter
from pipelines.topics.reactions import reaction_voice, reaction_words, why
from pipelines.topics.rules import Document, Hit, TermIndex

LEAD_WORDS = 50  # the lead: the first words of the text, where news states its subject
# Hit labels: "group:morocco", "exclude:tourism".
GROUP, EXCLUDE = "group:", "exclude:"


@dataclass(frozen=True)
class FieldWeights:
    """Points an occurrence earns by where it stands: a headline says what matters."""

    title: float = 3.0
    lead: float = 2.0
    body: float = 1.0


WEAKEST = "weakest"  # ``against`` value: the weakest group (the rule before "core")
CORE = "core"  # ``against`` value, the default: the topic's evidence per group


@dataclass(frozen=True)
class Veto:
    """What one exclude list must outscore to drop an article.

    By default an exclude list competes with the topic's core: the article's whole
    evidence for the topic, per group (its score divided by the number of groups), at par.
    Comparing it with the weakest group instead drops real deals that name one country
    once and a rival or partner often (an Israeli howitzer chosen over a French one, a
    US-led exercise with Israeli troops in Morocco). A list that often forms the backdrop
    of a real match (the war in Gaza behind a Moroccan purchase of Israeli radars) can
    compete with the group that carries the subject (``against = "defence"``) and need
    ``factor`` times its score: the war has to be the story, not its setting.
    """

    against: str | None = None  # a group name, or "weakest"; None: the core
    factor: float = 1.0


AT_PAR = Veto()


class Vetoed(NamedTuple):
    """Why an article was dropped: ``name`` scored ``score``, more than ``bar``."""

    name: str  # the exclude list
    score: float
    against: str | None  # the rival group, or "weakest"; None: the core
    bar: float  # factor times the rival's score


class Rules(Protocol):
    """What scoring needs to know about a topic (``topics.Topic`` provides it)."""

    @property
    def name(self) -> str: ...
    @property
    def groups(self) -> tuple[str, ...]: ...
    @property
    def exclude(self) -> tuple[str, ...]: ...
    @property
    def weights(self) -> FieldWeights: ...
    @property
    def term_cap(self) -> float: ...
    @property
    def min_score(self) -> float: ...
    @property
    def min_group_score(self) -> float: ...
    @property
    def proximity(self) -> Literal["paragraph"] | int: ...
    @property
    def vetoes(self) -> Mapping[str, Veto]: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def reactions(self) -> str: ...
    @property
    def reaction_index(self) -> TermIndex: ...


def one_entity(
    doc: Document, hits: Sequence[Hit], groups: Sequence[str], weights: FieldWeights
) -> list[Hit]:
    """Let a term listed in several groups count for one of them only, in each article.

    A name like Barak MX is Israeli and defence evidence; counting it for both let one
    sentence of an unrelated article pass. Each such term counts, in every occurrence, for
    the one of its groups that is weakest when its turn comes: first the group evidence of
    the terms of one group alone (by field weight), then these terms, the strongest first
    (ties: the first found), each given to its weakest group (ties: the group listed
    first). So Barak MX and IAI in an article that says "Israeli" nowhere are evidence
    of Israel and of defence, once each, not twice each.
    """
    labels = [GROUP + g for g in groups]
    if not any(len(hit.labels.intersection(labels)) > 1 for hit in hits):
        return list(hits)
    own: dict[str, float] = defaultdict(float)
    shared: dict[int, float] = defaultdict(float)  # term -> its points in the article
    for hit in hits:
        mine = hit.labels.intersection(labels)
        if len(mine) == 1:
            own[next(iter(mine))] += _weight(doc, hit, weights)
        elif mine:
            shared[hit.term] += _weight(doc, hit, weights)
    chosen: dict[int, str] = {}
    for term in sorted(shared, key=lambda t: -shared[t]):  # sorted() keeps first-found ties
        mine = next(h.labels for h in hits if h.term == term).intersection(labels)
        chosen[term] = min(mine, key=lambda g: (own[g], labels.index(g)))
        own[chosen[term]] += shared[term]
    resolved = []
    for hit in hits:
        if hit.term in chosen:
            keep = hit.labels.difference(labels) | {chosen[hit.term]}
            hit = Hit(hit.start, hit.end, hit.term, frozenset(keep))
        resolved.append(hit)
    return resolved


def may_match(doc: Document, hits: Sequence[Hit], rules: Rules) -> bool:
    """Whether the groups meet at all: the cheap first test most articles fail."""
    units = [_unit(doc, hit, rules.proximity) for hit in hits]
    return bool(_counted(doc, hits, units, rules.groups, rules.proximity))


def judge(doc: Document, found: Sequence[Hit], rules: Rules) -> Match | None:
    """Decide whether ``hits`` make ``doc`` a match for the topic, and explain why."""
    units = [_unit(doc, hit, rules.proximity) for hit in found]
    if not _counted(doc, found, units, rules.groups, rules.proximity):
        return None  # most articles: counting a term once more cannot complete the groups
    hits = one_entity(doc, found, rules.groups, rules.weights)
    counted = _counted(doc, hits, units, rules.groups, rules.proximity)
    if not counted:
        return None
    points = [_weight(doc, hit, rules.weights) for hit in hits]
    kept = _capped(hits, points, counted, rules.term_cap)
    score = sum(kept.values())
    if score < rules.min_score:
        return None
    groups = _label_scores(hits, kept)
    weakest = min(groups[GROUP + g] for g in rules.groups)
    if weakest < rules.min_group_score:
        return None
    if rules.exclude and veto(
        _label_scores(hits, _capped(hits, points, range(len(hits)), rules.term_cap)),
        groups,
        rules,
        headline=in_headline(doc, hits, rules.groups),
    ):
        return None
    voice = None
    if rules.reaction_index.terms:
        voice = reaction_voice(doc, rules.reaction_index.scan(doc, reaction_words(doc)))
    if voice is not None and rules.reactions == "ignore":
        return None
    return _explain(
        doc,
        rules,
        round(score, 2),
        [hits[i] for i in counted],
        [units[i] for i in counted],
        [points[i] for i in counted],
        voice,
    )


def in_headline(doc: Document, hits: Sequence[Hit], groups: Sequence[str]) -> bool:
    """Whether the headline states the topic: its first term is of a group, and it names
    every group ("Morocco picks Israeli howitzer over French Caesar", not "Algeria answers
    Morocco's Israeli drones with Russian jets")."""
    titled = [hit for hit in hits if hit.start < doc.title_words]
    if not titled or not any(label.startswith(GROUP) for label in titled[0].labels):
        return False
    found = {label for hit in titled for label in hit.labels}
    return all(GROUP + g in found for g in groups)


def veto(
    scores: Mapping[str, float],
    groups: Mapping[str, float],
    rules: Rules,
    *,
    headline: bool = False,
) -> Vetoed | None:
    """The exclude list that drops the article, if any (the one furthest over its bar).

    Exclude lists are scored over the whole article. Each must score more than its bar:
    ``factor`` times its rival, by default the topic's core at par. The core is the
    article's evidence per group (its score divided by the number of groups) or, when the
    headline names every group, all of its evidence: a headline that states the topic
    ("Morocco picks Israeli howitzer over French Caesar") is not outweighed by the rival
    it names. A tie goes to the topic: an article that passes every rule of its own and
    is as much about, say, tourism as about the topic is still a defence story.
    """
    scores_of = [groups.get(GROUP + g, 0.0) for g in rules.groups]
    weakest = min(scores_of)
    core = sum(scores_of) / (1 if headline else len(scores_of))
    worst: Vetoed | None = None
    for name in rules.exclude:
        rule = rules.vetoes.get(name, AT_PAR)
        if rule.against is None:
            rival = core
        elif rule.against == WEAKEST:
            rival = weakest
        else:
            rival = groups.get(GROUP + rule.against, 0.0)
        bar = rule.factor * rival
        score = scores.get(EXCLUDE + name, 0.0)
        if score > bar and (worst is None or score - bar > worst.score - worst.bar):
            worst = Vetoed(name, score, rule.against, bar)
    return worst


def _unit(doc: Document, hit: Hit, proximity: Literal["paragraph"] | int) -> int:
    """The paragraph an occurrence belongs to; title and lead paragraphs form unit 0."""
    if proximity != "paragraph":
        return 0
    paragraph = doc.paragraphs[hit.start]
    first_word = bisect_left(doc.paragraphs, paragraph)
    return 0 if first_word < doc.title_words + LEAD_WORDS else paragraph


def _counted(
    doc: Document,
    hits: Sequence[Hit],
    units: Sequence[int],
    groups: Sequence[str],
    proximity: Literal["paragraph"] | int,
) -> list[int]:
    """Indexes of the hits that have every group near them.

    The title states what the whole article is about, so its terms are near every
    paragraph; the title's own hits count once some paragraph completes the groups.
    """
    titled = bisect_left([hit.start for hit in hits], doc.title_words)  # title hits first
    labels = frozenset(GROUP + g for g in groups)
    grouped = [bool(labels & hit.labels) for hit in hits]
    in_title = {label for hit in hits[:titled] for label in labels & hit.labels}
    needed = labels.difference(in_title)
    body = [i for i in range(titled, len(hits)) if grouped[i]]
    if proximity == "paragraph":
        near = _complete_units(hits, units, body, needed)
        counted = [i for i in body if units[i] in near]
    else:
        counted = _within(hits, body, needed, proximity)
    if counted or not needed:
        return [i for i in range(titled) if grouped[i]] + counted
    return []


def _complete_units(
    hits: Sequence[Hit], units: Sequence[int], body: list[int], needed: frozenset[str]
) -> set[int]:
    """The paragraphs that hold a term of every needed group."""
    found: dict[int, set[str]] = defaultdict(set)
    for i in body:
        found[units[i]].update(hits[i].labels)
    return {unit for unit, labels in found.items() if needed <= labels}


def _within(
    hits: Sequence[Hit], body: list[int], needed: frozenset[str], proximity: int
) -> list[int]:
    """The hits with a term of every needed group at most ``proximity`` words away."""
    where = {label: [hits[i].start for i in body if label in hits[i].labels] for label in needed}
    return [
        i
        for i in body
        if all(
            bisect_left(places, hits[i].start - proximity)
            < bisect_right(places, hits[i].start + proximity)
            for places in where.values()
        )
    ]


def _weight(doc: Document, hit: Hit, weights: FieldWeights) -> float:
    if hit.start < doc.title_words:
        return weights.title
    if hit.start < doc.title_words + LEAD_WORDS:
        return weights.lead
    return weights.body


def _capped(
    hits: Sequence[Hit], points: Sequence[float], chosen: Sequence[int] | range, cap: float
) -> dict[int, float]:
    """Points per term over the chosen hits, each term capped."""
    total: dict[int, float] = defaultdict(float)
    for i in chosen:
        total[hits[i].term] += points[i]
    return {term: min(cap, value) for term, value in total.items()}


def _label_scores(hits: Sequence[Hit], kept: dict[int, float]) -> dict[str, float]:
    """Score per group or exclude list: the capped points of the terms that carry it."""
    labels: dict[int, frozenset[str]] = {}
    for hit in hits:
        if hit.term in kept and hit.term not in labels:
            labels[hit.term] = hit.labels
    scores: dict[str, float] = defaultdict(float)
    for term, value in kept.items():
        for label in labels[term]:
            scores[label] += value
    return scores


def _explain(
    doc: Document,
    rules: Rules,
    score: float,
    hits: list[Hit],
    units: list[int],
    points: list[float],
    voice: Hit | None = None,
) -> Match:
    """Quote the matched words per group and the passage where the groups meet best."""
    quoter = Quoter(doc)
    terms: dict[str, list[str]] = {g: [] for g in rules.groups}
    strength: dict[str, dict[str, float]] = {g: {} for g in rules.groups}  # by folded words
    quoted: dict[str, str] = {}
    for hit, point in zip(hits, points, strict=True):
        folded = " ".join(doc.words[hit.start : hit.end]).casefold()
        for label in hit.labels:
            if label.startswith(GROUP):
                group = strength[label.removeprefix(GROUP)]
                if folded not in group:
                    quoted.setdefault(folded, quoter.words(hit.start, hit.end))
                    terms[label.removeprefix(GROUP)].append(quoted[folded])
                group[folded] = group.get(folded, 0.0) + point
    ranked = {  # strongest first; dicts keep the order of first occurrence for ties
        g: [quoted[f] for f in sorted(found, key=lambda f: -found[f])]
        for g, found in strength.items()
    }
    spoken = quoter.words(voice.start, voice.end) if voice is not None else None
    return Match(
        rules.name,
        score,
        terms,
        quoter.snippet(*_best_passage(hits, units, points, rules.groups)),
        kind="reaction" if spoken and rules.reactions == "context" else "match",
        why=why([rules.labels.get(g, g) for g in rules.groups], ranked, spoken),
    )


def _best_passage(
    hits: list[Hit], units: list[int], points: list[float], groups: Sequence[str]
) -> tuple[int, int]:
    """Words to quote: in the strongest paragraph, the shortest run with every group.

    A paragraph that holds every group by itself is preferred; when the groups meet only
    with the title's help, the strongest paragraph is quoted from its first term.
    """
    strength: dict[int, float] = defaultdict(float)
    members: dict[int, list[Hit]] = defaultdict(list)
    for hit, unit, point in zip(hits, units, points, strict=True):
        strength[unit] += point
        members[unit].append(hit)
    need = {GROUP + g for g in groups}
    complete = [u for u in members if need <= frozenset().union(*(h.labels for h in members[u]))]
    unit = max(complete or list(members), key=lambda u: (strength[u], -u))
    run = _shortest_run(members[unit], need) if complete else None
    return run or (members[unit][0].start, members[unit][0].end)


def _shortest_run(hits: list[Hit], need: set[str]) -> tuple[int, int] | None:
    """The shortest span of consecutive hits whose labels cover ``need``."""
    best: tuple[int, int] | None = None
    for end, hit in enumerate(hits):
        missing = set(need)
        for begin in range(end, -1, -1):
            missing -= hits[begin].labels
            if not missing:
                if best is None or hit.end - hits[begin].start < best[1] - best[0]:
                    best = (hits[begin].start, hit.end)
                break
    return best
