"""Words as story clustering compares them, in Latin, Arabic and Hebrew script.

Folding drops accents, Arabic vowel marks and hamza seats, Hebrew points and letter-case;
digits of any script become ASCII. Arabic and Hebrew glue one-letter words to the next
(و and, ب in, ال the; ו and, ה the, ב in): :func:`variants` lists a word without them, so
``وبالمغرب`` meets the name ``المغرب`` and ``בישראל`` meets ``ישראל``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"\w+(?:['\u05f3\u05f4\"’]\w+)*")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_ARABIC = re.compile("[\u0600-\u06ff]")
_HEBREW = re.compile("[\u0590-\u05ff]")
_TRANSLATE = str.maketrans(
    {
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u0629": "\u0647",  # ta marbuta -> heh
        "\u0640": None,  # tatweel
        "\u05f3": "'",  # Hebrew geresh
        "\u05f4": '"',  # Hebrew gershayim
        "’": "'",
        **{chr(0x0660 + n): str(n) for n in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + n): str(n) for n in range(10)},  # Eastern Arabic-Indic digits
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
    }
)
_HEBREW_PREFIXES = "והבלמשכ"
_ARABIC_CONJ = "وف"
_ARABIC_PREP = "بلك"


def _marks() -> re.Pattern[str]:
    marks = [chr(c) for c in range(0x10000) if unicodedata.combining(chr(c))]
    return re.compile("[" + "".join(re.escape(m) for m in marks) + "]+")


_MARKS = _marks()  # every combining mark: accents, Arabic vowels, Hebrew points


def fold_keep_case(text: str) -> str:
    """Accents, vowel points and hamza seats dropped, digits ASCII; case kept."""
    if text.isascii():
        return text
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).translate(_TRANSLATE)


def fold(text: str) -> str:
    """:func:`fold_keep_case`, lower-cased."""
    return fold_keep_case(text).casefold()


def tokens(text: str) -> list[str]:
    """The words of already folded text; a Latin word with an elided article is split
    (``l'armee`` -> ``l``, ``armee``), a Hebrew abbreviation (``צה"ל``) is kept whole."""
    found: list[str] = []
    for word in _WORD.findall(text):
        if ("'" in word or '"' in word) and _LATIN.search(word):
            found.extend(w for w in re.split("['\"]", word) if w)
        else:
            found.append(word.replace("_", ""))
    return [w for w in found if w]


@lru_cache(maxsize=65536)
def variants(word: str) -> tuple[str, ...]:
    """The word, and the word without the one-letter words Arabic or Hebrew glue to it."""
    if _ARABIC.match(word):
        return _arabic_variants(word)
    if _HEBREW.match(word):
        return _hebrew_variants(word)
    return (word,)


def _arabic_variants(word: str) -> tuple[str, ...]:
    found = [word]
    if word[0] in _ARABIC_CONJ and len(word) > 3:
        found.append(word[1:])
    for form in list(found):
        if form.startswith("لل") and len(form) > 3:
            found.append("ال" + form[2:])
        elif form[0] in _ARABIC_PREP and len(form) > 3:
            found.append(form[1:])
    return tuple(dict.fromkeys(found))


def _hebrew_variants(word: str) -> tuple[str, ...]:
    found = [word]
    form = word
    for _ in range(2):
        if form[0] in _HEBREW_PREFIXES and len(form) > 3:
            form = form[1:]
            found.append(form)
        else:
            break
    return tuple(found)


def script(text: str) -> str:
    """The main script of a text: "arabic", "hebrew" or "latin"."""
    arabic = len(_ARABIC.findall(text))
    hebrew = len(_HEBREW.findall(text))
    if arabic > hebrew and arabic * 3 > len(text) // 10:
        return "arabic"
    if hebrew > arabic and hebrew * 3 > len(text) // 10:
        return "hebrew"
    return "latin"
