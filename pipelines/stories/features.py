"""What story clustering knows about one article: its signals, computed once and stored.

Entities (from the gazetteer), amounts and other numbers, dates mentioned, the moment it was
published, its language, and its words (stems with their counts) for same-language text
similarity. Stored as JSON in ``story_features`` so that comparing a new article with a
story's articles reads no text again.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property, lru_cache

from pipelines.stories.gazetteer import Gazetteer
from pipelines.stories.numbers import amounts, dates
from pipelines.stories.words import fold, fold_keep_case, tokens, variants

MAX_TERMS = 60
_STOP_WORDS = """
    avec dans pour cette entre leurs elle elles sont sera selon apres avant aussi comme
    tres plus mais dont etre avoir fait faire deux trois tout tous toute toutes depuis
    encore lors sous ainsi alors autre autres meme notamment contre vers chez ceux
    with that this from have been were will would their there which about after
    before also than they them into over more said says such while other these those
    door voor naar heeft hebben wordt werd zijn deze maar over onder tussen ook meer
    volgens bij uit niet worden hun zich nog want toen dan
    para como entre esta este sobre tras desde pero tambien segun donde cuando ante
    sido sera han habia porque contra hasta todo todos esta estos estas
    التي الذي الذين هذا هذه ذلك تلك على الى إلى عن من في مع بين بعد قبل كان كانت
    وقال قال حيث ايضا أيضا خلال عبر منذ لدى التى هذه وهو وهي كما وفق
    של את עם על אל גם כי אשר הוא היא הם זה זאת לא כל בין אחרי לפני כמו
"""
_STOP = frozenset(fold(w) for w in _STOP_WORDS.split())
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Features:
    lang: str
    published: str  # ISO 8601 in UTC (the fetch time when the page gave no date)
    entities: dict[str, int] = field(default_factory=dict)  # entity id -> mentions
    title_entities: frozenset[str] = frozenset()
    amounts: frozenset[str] = frozenset()  # amount:... (money, millions) and n:... (numbers)
    dates: frozenset[str] = frozenset()  # date:YYYY-MM-DD
    terms: dict[str, int] = field(default_factory=dict)  # stem -> count
    reaction: bool = False  # its topic matches are all reactions (a third party's statement)
    words: int = 0  # its length: in a long text, a name said once is background

    def to_json(self) -> str:
        return json.dumps(
            {
                "lang": self.lang,
                "published": self.published,
                "entities": self.entities,
                "title_entities": sorted(self.title_entities),
                "amounts": sorted(self.amounts),
                "dates": sorted(self.dates),
                "terms": self.terms,
                "reaction": self.reaction,
                "words": self.words,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> Features:
        """Features from :meth:`to_json`; without ``terms`` (read without its words: see
        :meth:`pipelines.store.stories.StoriesOps.story_members`), no words."""
        d = json.loads(raw)
        return cls(
            lang=d["lang"],
            published=d["published"],
            entities=d["entities"],
            title_entities=frozenset(d["title_entities"]),
            amounts=frozenset(d["amounts"]),
            dates=frozenset(d["dates"]),
            terms=d.get("terms", {}),
            reaction=bool(d.get("reaction", False)),
            words=int(d.get("words", 0)),
        )

    # Derived once per object (compared with many others): not fields, not stored.
    @cached_property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.published)

    @cached_property
    def money(self) -> frozenset[str]:
        """Its sums of money (``amount:...``)."""
        return frozenset(x for x in self.amounts if x.startswith("amount:"))

    @cached_property
    def vocabulary(self) -> tuple[str, ...]:
        """Its words as ``lang:stem`` (as word document frequencies are kept)."""
        return tuple(f"{self.lang}:{t}" for t in self.terms)

    @cached_property
    def frequencies(self) -> dict[str, float]:
        """Its words (``lang:stem``) with their damped counts (1 + log count)."""
        counts = self.terms.values()
        return {t: 1 + math.log(c) for t, c in zip(self.vocabulary, counts, strict=True)}


def utc_moment(published: str | None, fallback: str) -> str:
    """A stored ``published`` (a date, or a datetime with or without zone) in UTC ISO form;
    a date alone counts as noon UTC; ``fallback`` (the fetch time) when there is none."""
    for value in (published, fallback):
        if not value:
            continue
        try:
            if len(value) == 10:
                moment = datetime.fromisoformat(value + "T12:00:00+00:00")
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return moment.replace(microsecond=0).isoformat()
    return datetime(1970, 1, 1, tzinfo=UTC).isoformat()


def extract_features(
    gazetteer: Gazetteer,
    *,
    title: str | None,
    text: str,
    lang: str | None,
    published: str,
    reaction: bool = False,
) -> Features:
    """The signals of one article (``published``: from :func:`utc_moment`)."""
    head = title or ""
    kept = fold_keep_case(f"{head}\n{text}")
    folded = kept.casefold()
    words = tokens(kept)
    # When only ASCII letters change case, the folded text's words are these words lowered.
    same = kept.isascii() or folded == kept.translate(_ASCII_LOWER)
    low = [w.lower() for w in words] if same else None
    day: date | None = datetime.fromisoformat(published).date()
    return Features(
        lang=(lang or "?").lower()[:2],
        published=published,
        entities=gazetteer.implied(gazetteer.find_words(words, low)),
        title_entities=frozenset(gazetteer.find(head)),
        amounts=frozenset(amounts(folded)),
        dates=frozenset(dates(folded, day)),
        terms=_terms(tokens(fold(head)), tokens(folded) if low is None else low),
        reaction=reaction,
        words=len(words),
    )


def _terms(title: list[str], text: list[str]) -> dict[str, int]:
    """Stems and their counts (a headline word counts twice), the most frequent first."""
    counts: dict[str, int] = {}
    for word, n in Counter(text).items():  # words by first appearance, as stems are
        stem = _stem(word)
        if stem:
            counts[stem] = counts.get(stem, 0) + n
    for word in title:
        stem = _stem(word)
        if stem:
            counts[stem] = counts.get(stem, 0) + 1
    return dict(Counter(counts).most_common(MAX_TERMS))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str | None:
    if word.isdigit() or word in _STOP:
        return None
    base = variants(word)[-1]
    if base in _STOP or len(base) < (4 if base.isascii() else 3):
        return None
    return base[:7] if base.isascii() else base[:6]
