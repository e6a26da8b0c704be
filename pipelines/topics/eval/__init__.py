"""Measure topics on labelled articles: precision, recall and F1 per language.

Five labelled sets ship with newswatch (JSON Lines, one article per line)::

    {"id": "en-000", "lang": "en", "kind": "relevant", "relevant": true,
     "title": "...", "text": "paragraphs separated by newlines"}

``labelled.jsonl`` is the set the built-in rules were written against; ``holdout.jsonl``,
then ``blind2.jsonl`` and ``blind3.jsonl`` were written afterwards, without looking at the
rules, to see how they fare on unseen wording (``blind2`` adds Gaza-framed defence
stories, deals reported through a third party, briefs, and near misses such as Algeria's
reactions, water, health and Israeli domestic military news; ``blind3`` tells relevant
stories without the word "defence", through FAR, Tsahal, loitering munitions, export
licences, attachés and spyware). ``realworld.jsonl`` imitates real coverage in six
languages (fr, nl, en, ar, es, he): wire copies, Algerian and Palestinian outlets with
their hostile naming, Israeli outlets in Hebrew, briefs, live blogs, headlines in one
language over text in another, reactions (``kind`` "reaction": third parties recapping a
deal, not alerted by default, so labelled not relevant) and near misses such as the White
House, Bethlehem and "ahl al-bayt" in Arabic; it was written before the rules were tuned
for those languages. ``kind`` names the near miss an
irrelevant article is (``tourism``, ``other-country-deal``, ``passing-mention``...), so
errors can be read by kind.

An article counts as found when it matches at least one of the evaluated topics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pipelines.errors import NewswatchError
from pipelines.models import Article, Match
from pipelines.topics.matching import Topic, match_topics

__all__ = [
    "BUNDLED_SETS",
    "Evaluation",
    "LabelledArticle",
    "LabelledSetError",
    "Scores",
    "bundled_set_text",
    "evaluate",
    "load_bundled",
    "parse_labelled",
    "read_labelled_file",
]

BUNDLED_SETS = (
    "labelled.jsonl",
    "holdout.jsonl",
    "blind2.jsonl",
    "blind3.jsonl",
    "realworld.jsonl",
)
_REQUIRED = {"id": str, "lang": str, "relevant": bool, "text": str}


class LabelledSetError(NewswatchError):
    """A labelled file cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    lang: str
    relevant: bool
    title: str
    text: str
    kind: str = ""
    source: str = ""  # the file it came from

    def article(self) -> Article:
        return Article(url=f"labelled:{self.id}", title=self.title, text=self.text, lang=self.lang)


def bundled_set_text(name: str) -> str:
    """One of the labelled sets shipped inside the package."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def parse_labelled(text: str, *, source: str) -> list[LabelledArticle]:
    """Read JSON Lines of labelled articles; every problem names ``source`` and the line."""
    items: list[LabelledArticle] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}: line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledSetError(f"{where}: not valid JSON: {exc.msg}") from None
        items.append(_item(row, where, source))
    if not items:
        raise LabelledSetError(f"{source}: no labelled articles in the file")
    return items


def _item(row: Any, where: str, source: str) -> LabelledArticle:
    if not isinstance(row, dict):
        raise LabelledSetError(f"{where}: expected a JSON object")
    for key, kind in _REQUIRED.items():
        if not isinstance(row.get(key), kind):
            wanted = "true or false" if kind is bool else "a string"
            raise LabelledSetError(f"{where}: {key!r} must be {wanted}, got {row.get(key)!r}")
    title = row.get("title") or ""
    if not isinstance(title, str):
        raise LabelledSetError(f"{where}: 'title' must be a string, got {title!r}")
    kind_label = row.get("kind") or ("relevant" if row["relevant"] else "")
    return LabelledArticle(
        row["id"], row["lang"], row["relevant"], title, row["text"], str(kind_label), source
    )


@dataclass
class Scores:
    """Counts of one language (or of all): what was found against what was labelled."""

    items: int = 0
    tp: int = 0  # relevant and found
    fp: int = 0  # found but not relevant
    fn: int = 0  # relevant but missed

    @property
    def relevant(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        # Nothing found: perfect when there was nothing to find, useless otherwise.
        if self.tp + self.fp == 0:
            return 1.0 if self.fn == 0 else 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / self.relevant if self.relevant else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, relevant: bool, found: bool) -> None:
        self.items += 1
        self.tp += relevant and found
        self.fp += found and not relevant
        self.fn += relevant and not found

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "relevant": self.relevant,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class Outcome:
    """How one labelled article was judged."""

    item: LabelledArticle
    matches: list[Match]

    @property
    def found(self) -> bool:
        """Whether the article would be alerted: a reaction kept as context is not found."""
        return any(m.kind == "match" for m in self.matches)

    @property
    def correct(self) -> bool:
        return self.found == self.item.relevant


@dataclass
class Evaluation:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_language(self) -> dict[str, Scores]:
        """Scores per language, sorted by language code, then ``"all"``."""
        scores: dict[str, Scores] = {}
        for outcome in self.outcomes:
            scores.setdefault(outcome.item.lang, Scores()).add(outcome.item.relevant, outcome.found)
        total = Scores()
        for outcome in self.outcomes:
            total.add(outcome.item.relevant, outcome.found)
        return {**dict(sorted(scores.items())), "all": total}

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def evaluate(items: Iterable[LabelledArticle], topics: Sequence[Topic]) -> Evaluation:
    """Judge every labelled article against ``topics``."""
    return Evaluation([Outcome(item, match_topics(item.article(), topics)) for item in items])


def read_labelled_file(path: Path) -> list[LabelledArticle]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelledSetError(f"{path}: cannot read: {exc}") from None
    return parse_labelled(text, source=str(path))


def load_bundled() -> list[LabelledArticle]:
    """Every labelled set shipped with newswatch, in ``BUNDLED_SETS`` order."""
    return [
        item
        for name in BUNDLED_SETS
        for item in parse_labelled(bundled_set_text(name), source=name)
    ]
