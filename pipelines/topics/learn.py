"""Learning from the analyst: measure the topics on their labels and suggest changes.

The analyst labels stored articles (``newswatch feedback ARTICLE --relevant`` or
``--not-relevant``). Those labels are labelled articles like the shipped sets, so
``topics eval --feedback`` measures the rules on them. ``topics suggest`` looks at the
articles where the rules and the analyst disagree and tries the changes that could settle
each disagreement:

- a missed article: add a word of its title or first paragraph to the group that was
  missing or too weak, or remove the exclusion term that dropped it;
- a false alarm: add a word it uses to a new exclude list (``feedback``), or remove the
  group term it matched on.

Each change is tried on a copy of the topic and measured on every labelled article, the
shipped sets and the analyst's labels together, so a change that fixes one label and
breaks ten shipped articles shows it. Nothing is applied: the analyst copies the change
into ``newswatch.toml``.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pipelines.topics.eval import LabelledArticle, Scores
from pipelines.topics.explain import explain_document
from pipelines.topics.matching import Topic, load_topics
from pipelines.topics.rules import Document, read_document
from pipelines.topics.scoring import judge, one_entity

MIN_WORD = 4  # letters of a suggested word: shorter ones are mostly grammar
WORDS_PER_GAP = 6  # candidate words tried per kind of disagreement
COMMON_SHARE = 0.03  # a word in more of the labelled articles than this is no evidence
FEEDBACK_LIST = "feedback"  # the exclude list suggested words go to


class Label(Protocol):
    """An analyst's label as the store reads it back (``pipelines.store.feedback``)."""

    @property
    def article_id(self) -> int: ...
    @property
    def relevant(self) -> bool: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def lang(self) -> str | None: ...


def labelled_feedback(rows: Iterable[Label]) -> list[LabelledArticle]:
    """The analyst's labels as labelled articles (``id`` is ``feedback:ARTICLE_ID``)."""
    return [
        LabelledArticle(
            f"feedback:{r.article_id}",
            r.lang or "",
            r.relevant,
            r.title,
            r.text,
            "feedback",
            "feedback",
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Suggestion:
    """One change to a topic and what it does to every labelled article."""

    change: str  # e.g. 'add "sioniste" to groups.israel'
    fixes: int  # disagreements with the analyst it settles
    breaks: int  # agreements with the analyst it loses
    before: Scores  # all labelled articles, the topic as it is
    after: Scores  # all labelled articles, with the change


class _Bench:
    """Labelled articles read once, judged again for each variant of the topic."""

    def __init__(self, items: Sequence[LabelledArticle]) -> None:
        self.items = list(items)
        self.docs = [read_document(i.title, i.text, i.lang or None) for i in self.items]

    def found(self, topic: Topic) -> list[bool]:
        judged = (judge(doc, topic.index.scan(doc), topic) for doc in self.docs)
        return [m is not None and m.kind == "match" for m in judged]

    def scores(self, found: Sequence[bool]) -> Scores:
        total = Scores()
        for item, hit in zip(self.items, found, strict=True):
            total.add(item.relevant, hit)
        return total


def suggest(
    topic: Topic,
    shipped: Sequence[LabelledArticle],
    feedback: Sequence[LabelledArticle],
    *,
    limit: int = 10,
) -> tuple[Scores, list[Suggestion]]:
    """The changes that settle most disagreements on ``feedback``, best first.

    Returns the scores of the topic as it is on all labelled articles, and the changes
    that settle at least one disagreement, each measured on them.
    """
    bench = _Bench([*shipped, *feedback])
    now = bench.found(topic)
    before = bench.scores(now)
    mine = range(len(shipped), len(bench.items))
    wrong = [i for i in mine if now[i] != bench.items[i].relevant]
    out: list[Suggestion] = []
    for change, edit in _candidates(topic, bench, wrong, now):
        table = copy.deepcopy(topic.table)
        try:
            edit(table)
            variant = load_topics([table], path="suggestion")[0]
        except Exception:  # a candidate the configuration refuses is no suggestion
            continue
        found = bench.found(variant)
        fixes = sum(found[i] == bench.items[i].relevant for i in wrong)
        breaks = sum(found[i] != bench.items[i].relevant for i in mine if i not in wrong)
        if fixes:
            out.append(Suggestion(change, fixes, breaks, before, bench.scores(found)))
    out.sort(key=lambda s: (-(s.fixes - s.breaks), -s.after.f1, s.change))
    return before, out[:limit]


Edit = Callable[[dict[str, Any]], None]


def _candidates(
    topic: Topic, bench: _Bench, wrong: list[int], now: list[bool]
) -> list[tuple[str, Edit]]:
    missing: dict[str, Counter[str]] = {}  # group -> words of missed articles
    removable: Counter[tuple[str, str, str]] = Counter()  # (kind, list, term) -> votes
    noise: Counter[str] = Counter()  # words of false alarms
    for i in wrong:
        doc = bench.docs[i]
        explained = explain_document(doc, topic)
        if bench.items[i].relevant:  # missed
            for weak in explained.groups:
                if weak.score < max(topic.min_group_score, 1.0):
                    missing.setdefault(weak.name, Counter()).update(_words(doc, topic))
            for veto in explained.exclusions:
                if explained.verdict.startswith(f"excluded: {veto.name!r}"):
                    for listed in veto.terms[:2]:
                        removable[("exclude", veto.name, listed.term)] += 1
        else:  # false alarm
            noise.update(_words(doc, topic))
            for strong in explained.groups:
                for listed in strong.terms[:1]:
                    removable[("groups", strong.name, listed.term)] += 1
    found: list[tuple[str, Edit]] = []
    for group, words in missing.items():  # a new group term: rare in unwanted articles
        for word in _best(words, _common_words(bench, relevant=False)):
            found.append((f'add "{word}" to groups.{group}', _adder("groups", group, word)))
    for word in _best(noise, _common_words(bench, relevant=True)):  # rare in wanted ones
        found.append(
            (f'add "{word}" to exclude.{FEEDBACK_LIST}', _adder("exclude", FEEDBACK_LIST, word))
        )
    for (kind, name, term), _ in removable.most_common(WORDS_PER_GAP):
        found.append((f'remove "{term}" from {kind}.{name}', _remover(kind, name, term)))
    return found


def _best(words: Counter[str], common: set[str]) -> list[str]:
    """The most used words that are not common in the labelled articles at large."""
    ranked = sorted((w for w in words if w not in common), key=lambda w: (-words[w], w))
    return ranked[:WORDS_PER_GAP]


def _common_words(bench: _Bench, *, relevant: bool) -> set[str]:
    """Words in more than ``COMMON_SHARE`` of the labelled articles that are (not)
    relevant: no evidence for telling them apart."""
    seen: Counter[str] = Counter()
    docs = [d for d, item in zip(bench.docs, bench.items, strict=True) if item.relevant == relevant]
    for doc in docs:
        seen.update({w.casefold() for w in doc.words})
    most = max(2, int(len(docs) * COMMON_SHARE))
    return {w for w, n in seen.items() if n > most}


def _words(doc: Document, topic: Topic) -> Counter[str]:
    """Candidate words of an article, with their weight: its title (3) and first
    paragraph (1), not already terms."""
    first = doc.paragraphs[doc.title_words] if doc.title_words < len(doc.words) else 0
    covered = {
        n
        for hit in one_entity(doc, topic.index.scan(doc), topic.groups, topic.weights)
        for n in range(hit.start, hit.end)
    }
    found: Counter[str] = Counter()
    for n, word in enumerate(doc.words):
        if doc.paragraphs[n] > first:
            break
        if n not in covered and len(word) >= MIN_WORD and word.isalpha():
            found[word.casefold()] += 3 if n < doc.title_words else 1
    return found


def _adder(kind: str, name: str, word: str) -> Edit:
    def edit(table: dict[str, Any]) -> None:
        lists = table.setdefault(kind, {})
        listed = lists.setdefault(name, [])
        if isinstance(listed, dict):
            listed.setdefault("any", []).append(word)
        else:
            listed.append(word)

    return edit


def _remover(kind: str, name: str, term: str) -> Edit:
    def edit(table: dict[str, Any]) -> None:
        listed = table[kind][name]
        for terms in listed.values() if isinstance(listed, dict) else [listed]:
            if term in terms:
                terms.remove(term)

    return edit


def disagreements(topic: Topic, items: Sequence[LabelledArticle]) -> list[str]:
    """Ids of the labelled articles the topic judges otherwise than their label."""
    return [
        item.id
        for item, found in zip(items, _Bench(items).found(topic), strict=True)
        if found != item.relevant
    ]
