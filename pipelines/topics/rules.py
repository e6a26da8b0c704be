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

When several terms match at the same place the longest one wins, so ``AS FAR`` (a football
club, listed as an exclusion) keeps the ``FAR`` inside it from counting as the army.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import compress

from pipelines.topics.arabic import is_arabic, unify_letters, without_article, word_forms

# Marks that NFKD splits off accented letters (Latin, Greek, Cyrillic), Hebrew points and
# Arabic harakat. A fixed list keeps folding a C-speed regex instead of a per-character loop.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Strip accents and compatibility forms but keep case, which acronyms need."""
    return unify_letters(_MARKS.sub("", unicodedata.normalize("NFKD", text)))


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(char)


def fold_offsets(text: str) -> list[int] | None:
    """Map each character of ``fold(text)`` back to its position in ``text``.

    Only needed to quote the original text (snippets, matched words), so it runs only
    for articles that matched. Most characters fold to exactly one character; only the
    others ("…" becomes "...", a lone combining accent vanishes) need care. Returns None
    in the rare case where folding character by character differs from folding the
    whole string (reordered combining marks).
    """
    uneven = [c for c in set(text) if len(_fold_char(c)) != 1]
    if not uneven:
        return list(range(len(text)))
    offsets: list[int] = []
    done = 0
    for found in re.finditer("|".join(map(re.escape, uneven)), text):
        offsets.extend(range(done, found.start()))
        offsets.extend([found.start()] * len(_fold_char(found.group())))
        done = found.end()
    offsets.extend(range(done, len(text)))
    return offsets if len(offsets) == len(fold(text)) else None


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
    arabic: bool = False  # also try the word without its proclitics

    def matches(self, word: str) -> bool:
        if self.arabic:
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

    @property
    def key(self) -> object:
        """Identity for merging the same term listed in several groups."""
        return self.regex.pattern if self.regex is not None else self.words


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
        if is_arabic(text):
            anchored = kind in (Kind.EXACT, Kind.PREFIX)
            patterns.append(
                WordPattern(without_article(text) if anchored else text, kind, False, True)
            )
        else:
            patterns.append(WordPattern(text, kind, capitals))
    return patterns


def parse_term(raw: str) -> Term:
    """Parse one term as written in the configuration; ValueError says what is wrong."""
    text = raw.strip()
    if not text:
        raise ValueError("empty term")
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return Term(raw, regex=_compile_regex(text[1:-1]))
    words = [p for chunk in text.split() for p in _parse_chunk(chunk)]
    if not words:
        raise ValueError(f"no letters or digits in term {raw!r}")
    return Term(raw, words=tuple(words))


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
class Document:
    """An article cut into folded words, each with its paragraph.

    ``parts`` are the folded paragraphs: the title first, then the paragraphs of the
    text, so ``"\\n".join(parts)`` is ``source`` folded. ``source`` is the original title,
    a newline and the original text, kept to quote from. ``paragraphs[i]`` is the index in
    ``parts`` of word ``i``; the title's words come first.
    """

    source: str
    parts: list[str]
    words: list[str]
    paragraphs: list[int]
    title_words: int

    @property
    def folded(self) -> str:
        return "\n".join(self.parts)


def read_document(title: str, text: str) -> Document:
    """Fold and cut an article once, so that every topic reuses the same words."""
    title = title.replace("\n", " ")  # the first newline of ``source`` ends the title
    parts = [fold(title), *fold(text).split("\n")]
    words: list[str] = []
    paragraphs: list[int] = []
    for number, part in enumerate(parts):
        found = _WORD.findall(part)
        words.extend(found)
        paragraphs.extend([number] * len(found))
    return Document(title + "\n" + text, parts, words, paragraphs, paragraphs.count(0))


def part_spans(part: str) -> list[tuple[int, int]]:
    """Character spans of the words of one folded paragraph, as ``read_document`` cut them."""
    return [m.span() for m in _WORD.finditer(part)]


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

    def scan(self, doc: Document) -> list[Hit]:
        """Find every term, longest first at each place, without overlaps."""
        self._learn(doc.words)
        firsts = list(map(self._cache.__getitem__, doc.words))
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
            if found:
                hits.append(self._longest(position, found))
        return hits

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
