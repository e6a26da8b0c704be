"""How strongly two articles tell the same story, and why.

The score adds what survives translation: shared entities (each weighing its rarity; an
entity named only in passing counts less), shared amounts and numbers, shared dates; plus,
for two articles in the same language, the similarity of their words. It subtracts the time
between them past the first days, a sum of money that differs, and a country one of them
puts in its headline that the other never names (a third country's reaction is its own
story).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

from pipelines.stories.features import Features
from pipelines.stories.gazetteer import Gazetteer

AMOUNT = 2.0  # a shared sum of money or count in millions
NUMBER = 0.5  # another shared number (cap NUMBERS)
NUMBERS = 1.5
DATE = 1.0  # a shared day (cap DATES)
DATES = 2.0
TEXT = 6.0  # times the same-language word similarity
MIN_SHARED_TERMS = 8  # fewer words in common say nothing (two briefs, two headlines)
PASSING = 0.5  # an entity a long article names once, not in its headline (each side)
LONG = 250  # words: a longer article recalls background
DAY = 0.12  # per day apart after the first GRACE days (cap LATE)
GRACE = 2.0
LATE = 2.5
OTHER_SUM = 1.5  # both name sums of money, none in common
HEADLINE_COUNTRY = 2.0  # a country in one's headline the other never names
HEADLINE_FRAME = 2.0  # a protest or condemnation in one's headline the other never names
HEADLINE_ACTOR = 1.5  # per headline naming someone the other names in passing at most
OTHER_SYSTEM = 2.5  # one headline's weapon system, the other's another one: two deals
_ACTORS = ("person", "org", "system", "event", "topic")
REACTION = 3.0  # one is a reaction (topic match kind) and the other is not
Kinds = Mapping[str, frozenset[str]]  # a headline's entities by kind (Gazetteer.by_kind)
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Link:
    score: float
    entities: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    text_similarity: float = 0.0
    days_apart: float = 0.0
    specific: float = 0.0  # the evidence beyond countries (entities, amounts, dates, text)

    def columns(self) -> dict[str, object]:
        return {
            "score": round(self.score, 3),
            "entities": list(self.entities),
            "amounts": list(self.amounts),
            "dates": list(self.dates),
            "text_similarity": round(self.text_similarity, 3),
            "days_apart": round(self.days_apart, 2),
        }


IdfLookup = Callable[[str], float]


def compare(
    a: Features,
    b: Features,
    gazetteer: Gazetteer,
    idf: Mapping[str, float],
    default_idf: float,
    reactions: tuple[bool, bool] = (False, False),
    a_vector: Vector | None = None,
) -> Link:
    """The link between a new article ``a`` and a stored one ``b`` (``a_vector``: ``a``'s
    :func:`weighted` words, when computed already)."""
    found = measure(a, b, gazetteer, idf, default_idf, reactions, a_vector)
    assert found is not None  # no floor: always measured
    score, specific, similarity, apart = found
    common = a.amounts & b.amounts
    return Link(
        score=score,
        entities=tuple(sorted(a.entities.keys() & b.entities.keys())),
        amounts=tuple(
            sorted(x for x in common if x.startswith("amount:"))
            + sorted(x for x in common if x.startswith("n:"))
        ),
        dates=tuple(d.removeprefix("date:") for d in sorted(a.dates & b.dates)),
        text_similarity=similarity,
        days_apart=apart,
        specific=specific,
    )


def measure(
    a: Features,
    b: Features,
    gazetteer: Gazetteer,
    idf: Mapping[str, float],
    default_idf: float,
    reactions: tuple[bool, bool] = (False, False),
    a_vector: Vector | None = None,
    floor: float = -math.inf,
) -> tuple[float, float, float, float] | None:
    """:func:`compare`'s score, evidence beyond countries, word similarity and days apart;
    None, early, when the score cannot reach ``floor`` (the words as alike as can be and no
    headline penalty still fall short)."""
    weights, kinds = gazetteer.weights, gazetteer.kinds
    entity_score = specific = 0.0
    for entity in sorted(a.entities.keys() & b.entities.keys()):
        weight = weights.get(entity, 0.0) * _prominence(a, entity) * _prominence(b, entity)
        entity_score += weight
        if kinds[entity] not in ("country", "frame"):
            specific += weight
    common = a.amounts & b.amounts
    sums = numbers = 0
    for x in common:
        if x.startswith("amount:"):
            sums += 1
        elif x.startswith("n:"):
            numbers += 1
    amount_score = AMOUNT * sums + min(NUMBERS, NUMBER * numbers)
    date_score = min(DATES, DATE * len(a.dates & b.dates))
    apart = abs((a.moment - b.moment).total_seconds()) / 86400
    late = min(LATE, DAY * max(0.0, apart - GRACE))
    other_sum = bool(a.money and b.money and not sums)
    words = a.lang == b.lang and len(a.terms.keys() & b.terms.keys()) >= MIN_SHARED_TERMS
    if floor > -math.inf:
        least = late + OTHER_SUM if other_sum else late
        if reactions[0] != reactions[1]:
            least += REACTION
        if entity_score + amount_score + date_score + (TEXT if words else 0.0) - least < floor:
            return None
    similarity = 0.0
    if words:
        similarity = cosine(
            a_vector or weighted(a, idf, default_idf), weighted(b, idf, default_idf)
        )
    text_score = TEXT * similarity
    penalty = late
    if other_sum:
        penalty += OTHER_SUM
    if a.title_entities or b.title_entities:  # each of these reads a headline's entities
        ka, kb = gazetteer.by_kind(a.title_entities), gazetteer.by_kind(b.title_entities)
        penalty += HEADLINE_COUNTRY * _stray_countries(a, b, ka, kb)
        penalty += HEADLINE_FRAME * _stray_frame(a, b, ka, kb)
        penalty += HEADLINE_ACTOR * _stray_actors(a, b, ka, kb)
        penalty += OTHER_SYSTEM * _other_systems(a, b, ka, kb, gazetteer.systems)
    if reactions[0] != reactions[1]:
        penalty += REACTION
    score = entity_score + amount_score + date_score + text_score - penalty
    return score, specific + amount_score + date_score + text_score, similarity, apart


Vector = tuple[dict[str, float], float]  # term -> weight, and the norm


def weighted(f: Features, idf: Mapping[str, float], default_idf: float) -> Vector:
    """An article's words weighted by tf-idf (keys ``lang:stem``), with the vector's norm."""
    found = {term: damped * idf.get(term, default_idf) for term, damped in f.frequencies.items()}
    return found, math.sqrt(sum(w * w for w in found.values()))


def cosine(a: Vector, b: Vector) -> float:
    """Cosine of two :func:`weighted` vectors."""
    (wa, na), (wb, nb) = a, b
    if not na or not nb:
        return 0.0
    small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return sum(w * large[t] for t, w in small.items() if t in large) / (na * nb)


def _prominence(f: Features, entity: str) -> float:
    """1 for an entity the article puts forward (its headline, named twice, or in a short
    text), ``PASSING`` for one a long article names once (background), 0 when absent."""
    mentions = f.entities.get(entity, 0)
    if entity in f.title_entities or mentions >= 2 or (mentions and f.words < LONG):
        return 1.0
    return PASSING if mentions else 0.0


def _stray_countries(a: Features, b: Features, ka: Kinds, kb: Kinds) -> int:
    """A country one headline adds to a country both headlines name, that the other
    article never names (a third country reacting to the other's news). ``ka``, ``kb``:
    each headline's entities by kind."""
    mine, theirs = ka.get("country", _NONE), kb.get("country", _NONE)
    if not mine & theirs:
        return 0
    for one, other, others in ((mine, theirs, b), (theirs, mine, a)):
        if any(e not in others.entities for e in one - other):
            return 1
    return 0


def _stray_frame(a: Features, b: Features, ka: Kinds, kb: Kinds) -> int:
    """A frame (a protest, a condemnation) one headline puts forward and the other article
    never names: the protest against a visit is not the visit."""
    for kinds, other in ((ka, b), (kb, a)):
        for e in kinds.get("frame", _NONE):
            if e not in other.entities:
                return 1
    return 0


def _stray_actors(a: Features, b: Features, ka: Kinds, kb: Kinds) -> int:
    """How many of the two headlines name a person, organisation, system, event or topic the
    other article names in passing at most: two headlines with subjects of their own are two
    stories, whatever background each recalls."""
    stray = 0
    for kinds, other in ((ka, b), (kb, a)):
        for kind in _ACTORS:
            if kind in kinds and any(_prominence(other, e) < 1.0 for e in kinds[kind]):
                stray += 1
                break
    return stray


def _other_systems(a: Features, b: Features, ka: Kinds, kb: Kinds, systems: Set[str]) -> int:
    """1 when one headline names a weapon system the other article does not put forward,
    while the other puts forward another system (``systems``: every system): two deals."""
    for kinds, other in ((ka, b), (kb, a)):
        mine = kinds.get("system", _NONE)
        if not mine or not any(_prominence(other, e) < 1.0 for e in mine):
            continue
        theirs = {e for e in other.entities.keys() & systems if _prominence(other, e) >= 1.0}
        if theirs - mine:
            return 1
    return 0
