"""Articles as matching reads them: folded, cut into words, each word with its paragraph.

Text and terms are compared after the same folding (``fold``): Unicode NFKD with accents
and other combining marks removed, Arabic and Hebrew letter variants unified (see
``topic_arabic`` and ``topic_hebrew``). An article is folded and cut once
(``read_document``) and every topic reuses its words; the language of a paragraph is
worked out only when a term scoped to some languages needs it (``topic_language``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from pipelines.topics.arabic import keep_hamza_lam, unify_letters
from pipelines.topics.language import article_language, possible, votes_of

# Marks that NFKD splits off accented letters (Latin, Greek, Cyrillic), Hebrew points and
# Arabic harakat. A fixed list keeps folding a C-speed regex instead of a per-character loop.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_WORD = re.compile(r"\w+")


_RIGHT_TO_LEFT = re.compile("[\u0590-\u06ff]")


def fold(text: str) -> str:
    """Strip accents and compatibility forms but keep case, which acronyms need.

    Arabic and Hebrew letters get their own unification (``topic_arabic``); text without
    any is spared those passes.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    if not _RIGHT_TO_LEFT.search(decomposed):
        return _MARKS.sub("", decomposed)
    return unify_letters(_MARKS.sub("", keep_hamza_lam(decomposed)))


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
    lang: str | None = None  # the language the article declares, if any
    part_langs: dict[int, frozenset[str] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def folded(self) -> str:
        return "\n".join(self.parts)

    @cached_property
    def language(self) -> str | None:
        """The article's language (``topic_language``), worked out on first use."""
        return article_language(self.words, self.lang, self.rtl)

    @cached_property
    def rtl(self) -> bool:
        """Whether the article has Arabic or Hebrew letters."""
        return _RIGHT_TO_LEFT.search(self.source) is not None

    def langs_of(self, part: int) -> frozenset[str] | None:
        """The languages paragraph ``part`` may be in (None: unknown), on first use only."""
        if part not in self.part_langs:
            words = self.words[
                bisect_left(self.paragraphs, part) : bisect_right(self.paragraphs, part)
            ]
            votes = votes_of(words, self.rtl)
            langs = possible(votes, None)
            self.part_langs[part] = langs if langs else possible(votes, self.language)
        return self.part_langs[part]


def read_document(title: str, text: str, lang: str | None = None) -> Document:
    """Fold and cut an article once, so that every topic reuses the same words."""
    title = title.replace("\n", " ")  # the first newline of ``source`` ends the title
    parts = [fold(title), *fold(text).split("\n")]
    words: list[str] = []
    paragraphs: list[int] = []
    for number, part in enumerate(parts):
        found = _WORD.findall(part)
        words.extend(found)
        paragraphs.extend([number] * len(found))
    return Document(title + "\n" + text, parts, words, paragraphs, paragraphs.count(0), lang)


def part_spans(part: str) -> list[tuple[int, int]]:
    """Character spans of the words of one folded paragraph, as ``read_document`` cut them."""
    return [m.span() for m in _WORD.finditer(part)]
