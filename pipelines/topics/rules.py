"""How a topic's terms are written and found in text.

Text and terms are compared after the same folding: Unicode NFKD with accents and other
combining marks removed, so "Israël", "Israel" and "ISRAËL" meet, and Arabic vowel marks
do not hide a word. Arabic letter variants are unified and an Arabic word is also looked
up without its proclitics (و, ب, ل, ال...): see ``topic_arabic``.

Text is cut into words (runs of letters and digits); a term matches whole words only, so
"far" never matches inside "farther".

Term syntax (see docs/topics.md):

- ``morocco`` — one word, any case.
- ``air defence`` — a phrase: these words in this order, separated by anything that is not
  a letter or digit ("air-defence" matches too), within one paragraph.
- ``militair*`` / ``*afweer`` / ``*drone*`` — a word starting with, ending with or
  containing the given letters; the ends-with and contains forms are for compounds
  ("raketafweersysteem") and are slower, so use them sparingly.
- ``FAR`` — a word written with capitals and no lower-case letter is matched with its
  case, so the acronym FAR (Forces Armées Royales) never matches "far".
- ``/Barak[- ]?(8|MX)/`` — a regular expression, matched case-insensitively against the
  accent-folded text, on whole words.
- ``tank @en`` / ``marine @fr,nl`` / ``Barak @*`` — a term with its languages: it matches
  only in paragraphs written in one of them (``topic_language`` tells a paragraph's
  language). A term listed under a language in the configuration takes that language;
  the suffix overrides it, ``@*`` meaning every language.

When several terms match at the same place the longest one wins, so ``AS FAR`` (a football
club, listed as an exclusion) keeps the ``FAR`` inside it from counting as the army.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import compress

from pipelines.topics.arabic import has_clitics, is_arabic, without_article, word_forms
from pipelines.topics.document import (
    _WORD,
    Document,
    fold,
    fold_offsets,
    part_spans,
    read_document,
)

__all__ = [
    "Document",
    "Hit",
    "Term",
    "TermIndex",
    "fold",
    "fold_offsets",
    "parse_term",
    "part_spans",
    "read_document",
]


class Kind(Enum):
    """How one word of a term is compared with one word of the text."""

    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    INFIX = "infix"


@dataclass(frozen=True)
class WordPattern:
    """One word of a term, already folded (and case-folded unless case-sensitive)."""

    text: str
    kind: Kind
    case_sensitive: bool
    clitics: bool = False  # Arabic or Hebrew: also try the word without its proclitics

    def matches(self, word: str) -> bool:
        if self.clitics:
            return any(self._matches(form) for form in word_forms(word))
        return self._matches(word)

    def _matches(self, word: str) -> bool:
        candidate = word if self.case_sensitive else word.casefold()
        if self.kind is Kind.EXACT:
            return candidate == self.text
        if self.kind is Kind.PREFIX:
            return candidate.startswith(self.text)
        if self.kind is Kind.SUFFIX:
            return candidate.endswith(self.text)
        return self.text in candidate


@dataclass(frozen=True)
class Term:
    """A parsed term: a sequence of word patterns, or a regular expression."""

    source: str  # as the user wrote it, for messages
    words: tuple[WordPattern, ...] = ()
    regex: re.Pattern[str] | None = None
    langs: frozenset[str] | None = None  # the languages it matches in; None: all

    @property
    def key(self) -> object:
        """Identity for merging the same term listed in several groups."""
        return (self.regex.pattern if self.regex is not None else self.words, self.langs)


def _is_capitals(word: str) -> bool:
    return any(c.isupper() for c in word) and not any(c.islower() for c in word)


def _parse_chunk(chunk: str) -> list[WordPattern]:
    """Turn one space-separated piece of a term ("anti-drone*") into word patterns."""
    starts, ends = chunk.startswith("*"), chunk.endswith("*") and len(chunk) > 1
    core = chunk[1 if starts else 0 : -1 if ends else None]
    if "*" in core:
        raise ValueError("'*' is allowed only at the start or end of a word")
    words = _WORD.findall(fold(core))
    if not words:
        if starts or ends:
            raise ValueError("'*' must be attached to letters or digits")
        return []
    patterns = []
    for index, word in enumerate(words):
        head, tail = starts and index == 0, ends and index == len(words) - 1
        kind = {
            (False, False): Kind.EXACT,
            (False, True): Kind.PREFIX,
            (True, False): Kind.SUFFIX,
            (True, True): Kind.INFIX,
        }[(head, tail)]
        capitals = _is_capitals(word)
        text = word if capitals else word.casefold()
        if has_clitics(text):
            anchored = kind in (Kind.EXACT, Kind.PREFIX) and is_arabic(text)
            patterns.append(
                WordPattern(without_article(text) if anchored else text, kind, False, True)
            )
        else:
            patterns.append(WordPattern(text, kind, capitals))
    return patterns


_LANGS_SUFFIX = re.compile(r"\s@([^\s@]*)$")
_LANG_CODE = re.compile(r"[a-z]{2,3}")
ANY_LANGUAGE = "*"


def parse_langs(spec: str) -> frozenset[str] | None:
    """``"en,fr"`` as a set of language codes; ``"*"`` (every language) as None."""
    if spec.strip() == ANY_LANGUAGE:
        return None
    codes = [c.strip().casefold() for c in spec.split(",")]
    bad = [c for c in codes if not _LANG_CODE.fullmatch(c)]
    if bad or not codes:
        raise ValueError(
            f"bad language {(bad or [spec])[0]!r}: expected codes like en, fr or * for all"
        )
    return frozenset(codes)


def parse_term(raw: str, langs: frozenset[str] | None = None) -> Term:
    """Parse one term as written in the configuration; ValueError says what is wrong.

    ``langs`` are the languages of the list it is written in; a ``@en,fr`` suffix on the
    term overrides them.
    """
    text = raw.strip()
    suffix = _LANGS_SUFFIX.search(text)
    if suffix:
        langs = parse_langs(suffix.group(1))
        text = text[: suffix.start()].strip()
    if not text:
        raise ValueError("empty term")
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return Term(raw, regex=_compile_regex(text[1:-1]), langs=langs)
    words = [p for chunk in text.split() for p in _parse_chunk(chunk)]
    if not words:
        raise ValueError(f"no letters or digits in term {raw!r}")
    return Term(raw, words=tuple(words), langs=langs)


def _compile_regex(pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise ValueError("empty regular expression")
    folded = fold(pattern)  # folded like the text it runs on: "/défense/" finds "Defense"
    try:
        re.compile(folded)  # alone first, so an error's position is in the user's pattern
        compiled = re.compile(rf"(?<!\w)(?:{folded})(?!\w)", re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    if compiled.fullmatch(""):
        raise ValueError(f"regular expression {pattern!r} matches empty text")
    return compiled


@dataclass(frozen=True)
class Hit:
    """One place where a term matched: words ``start`` to ``end`` (exclusive)."""

    start: int
    end: int
    term: int  # index into TermIndex.terms
    labels: frozenset[str]


class TermIndex:
    """All terms of one topic, indexed by how their first word can be looked up.

    Most words of an article start no term. The candidate terms of each distinct word are
    cached (news text repeats its words), so a scan is one C-level pass of dictionary
    look-ups, and Python-level work happens only where a term may start.
    """

    _CACHE_LIMIT = 100_000

    def __init__(self, terms: Sequence[Term], labels: Sequence[Iterable[str]]) -> None:
        self.terms = list(terms)
        self.labels = [frozenset(x) for x in labels]
        self._sizes = [len(t.words) for t in self.terms]
        self._exact: dict[str, list[int]] = {}
        # Case-insensitive prefix terms (most wildcards) are looked up by the word's own
        # prefixes, one dictionary look-up per distinct prefix length; the few others are
        # tried one by one.
        self._prefix: dict[str, list[int]] = {}
        self._fuzzy: list[tuple[WordPattern, int]] = []
        self._regexes = [(i, t.regex) for i, t in enumerate(self.terms) if t.regex is not None]
        for number, term in enumerate(self.terms):
            first = term.words[0] if term.words else None
            if first is None:
                continue
            if first.kind is Kind.EXACT:
                self._exact.setdefault(first.text, []).append(number)
            elif first.kind is Kind.PREFIX and not first.case_sensitive:
                self._prefix.setdefault(first.text, []).append(number)
            else:
                self._fuzzy.append((first, number))
        self._prefix_sizes = sorted({len(text) for text in self._prefix})
        self._cache: dict[str, tuple[int, ...]] = {}
        self._scope = [t.langs for t in self.terms]
        self._scoped = any(self._scope)

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the cache: it is rebuilt quickly and can be large."""
        return {**self.__dict__, "_cache": {}}

    def _learn(self, words: Iterable[str]) -> None:
        """Cache the candidate terms of each new word; forget all when the cache is full."""
        unseen = set(words).difference(self._cache)
        if len(self._cache) + len(unseen) > self._CACHE_LIMIT:
            self._cache.clear()
            unseen = set(words)
        for word in unseen:
            self._cache[word] = self._candidates(word)

    def _candidates(self, word: str) -> tuple[int, ...]:
        """The terms whose first word matches ``word``."""
        numbers: set[int] = set()
        for form in word_forms(word):
            folded = form.casefold()
            numbers.update(self._exact.get(folded, ()), self._exact.get(form, ()))
            for size in self._prefix_sizes:
                if size > len(folded):
                    break
                numbers.update(self._prefix.get(folded[:size], ()))
        numbers.update(n for p, n in self._fuzzy if p.matches(word))
        return tuple(sorted(n for n in numbers if self.terms[n].words[0].matches(word)))

    def _extends(self, doc: Document, start: int, number: int) -> bool:
        """Whether the rest of a phrase follows its first word, in the same paragraph."""
        size = self._sizes[number]
        if size == 1:
            return True
        end = start + size
        if end > len(doc.words) or doc.paragraphs[end - 1] != doc.paragraphs[start]:
            return False
        rest = self.terms[number].words[1:]
        return all(p.matches(w) for p, w in zip(rest, doc.words[start + 1 : end], strict=True))

    @property
    def scoped(self) -> bool:
        """Whether some term matches in some languages only."""
        return self._scoped

    def scan(self, doc: Document, upto: int | None = None, *, languages: bool = True) -> list[Hit]:
        """Find every term, longest first at each place, without overlaps.

        ``upto`` limits the scan to the first words (the title and lead, say). With
        ``languages=False`` terms match whatever the paragraph's language: a cheaper
        first look, whose hits are (but for a longer term of another language hiding a
        shorter one) a superset of the real ones.
        """
        words = doc.words if upto is None else doc.words[:upto]
        self._learn(words)
        firsts = list(map(self._cache.__getitem__, words))
        starts: Iterable[int] = compress(range(len(firsts)), firsts)
        extra = self._regex_hits(doc) if self._regexes else {}
        if extra:
            starts = sorted(set(starts).union(extra))
        hits: list[Hit] = []
        for position in starts:
            if hits and position < hits[-1].end:
                continue
            found = [
                (self._sizes[n], n) for n in firsts[position] if self._extends(doc, position, n)
            ]
            found.extend(extra.get(position, ()))
            if found and self._scoped and languages:
                found = self._in_language(doc, position, found)
            if found:
                hits.append(self._longest(position, found))
        return hits

    def _in_language(
        self, doc: Document, position: int, found: list[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """Drop the terms scoped to other languages than the paragraph's."""
        langs = doc.langs_of(doc.paragraphs[position])
        if langs is None:
            return found
        scope = self._scope
        return [
            (s, n) for s, n in found if (only := scope[n]) is None or not langs.isdisjoint(only)
        ]

    def _longest(self, start: int, found: list[tuple[int, int]]) -> Hit:
        if len(found) == 1:
            size, number = found[0]
            return Hit(start, start + size, number, self.labels[number])
        size = max(length for length, _ in found)
        tied = sorted(n for length, n in found if length == size)
        labels = frozenset().union(*(self.labels[n] for n in tied))
        return Hit(start, start + size, tied[0], labels)

    def _regex_hits(self, doc: Document) -> dict[int, list[tuple[int, int]]]:
        """Regular expressions run on the folded text; map their spans to word numbers."""
        folded = doc.folded
        starts = [m.start() for m in _WORD.finditer(folded)]
        found: dict[int, list[tuple[int, int]]] = {}
        for number, regex in self._regexes:
            for match in regex.finditer(folded):
                first = bisect_left(starts, match.start())
                last = bisect_left(starts, match.end())
                if first < last:
                    found.setdefault(first, []).append((last - first, number))
        return found
