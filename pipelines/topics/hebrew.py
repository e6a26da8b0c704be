"""Hebrew spelling variants, so that a topic's Hebrew terms meet the words of the news.

Hebrew news writes a word with or without vowel points (folding drops them), with final
letter forms at the end of a word (ך ם ן ף ץ, unified with כ מ נ פ צ), with acronyms
marked by gershayim or a quote sign (צה"ל, צה״ל) and foreign sounds by a geresh
(אלג'יריה), and glued to one-letter prefixes: the conjunction ו, the relative ש and כש,
the prepositions ב, ל, כ, מ and the article ה (ובמרוקו, שהתעשייה, למרוקו). The prefixes
are handled like Arabic proclitics: a word of the text is also looked up without them,
and the shorter form can only ever match a term written that way (``word_forms``).
"""

from __future__ import annotations

import re

_FINALS = str.maketrans(
    {
        "\u05da": "\u05db",
        "\u05dd": "\u05de",
        "\u05df": "\u05e0",
        "\u05e3": "\u05e4",
        "\u05e5": "\u05e6",
    }
)
_HEBREW = re.compile("[\u05d0-\u05ea]")
# A quote sign between two Hebrew letters is part of the word (an acronym or a geresh).
# It becomes one letter-like character, so the word stays whole and its length (and so
# the mapping back to the original text) does not change.
_INNER_QUOTE = re.compile("(?<=[\u05d0-\u05ea])[\"'\u05f3\u05f4\u2019\u201d](?=[\u05d0-\u05ea])")
JOINER = "\u05f0"

# Prefix letters, in the order they combine: ו, then ש or כש, then one of ב ל כ מ ה, then
# the article ה (which ב ל כ swallow in writing, but מ and ש keep: מהצבא, שהצבא).
_PREFIX = re.compile("^(\u05d5?(?:\u05db\u05e9|\u05e9)?(?:[\u05d1\u05dc\u05db\u05de])?\u05d4?)")
MIN_STEM = 2


def is_hebrew(word: str) -> bool:
    return bool(_HEBREW.match(word))


def fold_hebrew(text: str) -> str:
    """Final letters as ordinary ones, inner quote signs as one joining letter."""
    if not _HEBREW.search(text):
        return text
    return _INNER_QUOTE.sub(JOINER, text.translate(_FINALS))


def prefix_forms(word: str) -> list[str]:
    """The word without each prefix it may carry: ``ובמרוקו`` gives ``במרוקו``, ``מרוקו``..."""
    found = _PREFIX.match(word)
    prefix = found.group(1) if found else ""
    forms = []
    for size in range(1, len(prefix) + 1):
        if len(word) - size >= MIN_STEM:
            forms.append(word[size:])
    return forms
