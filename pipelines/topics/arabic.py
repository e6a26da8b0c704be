"""Arabic spelling variants, so that a topic's Arabic terms meet the words of the news.

Arabic news writes one word in several ways: with or without hamza on the alef (إسرائيل,
اسرائيل), with a final yeh or alef maksura (على, علي), with ta marbuta or heh (دفاعية,
دفاعيه), stretched with tatweel (عـسكري), and glued to proclitics: the conjunctions و and
ف, the prepositions ب, ل and ك, and the article ال (والمغرب, بالمغرب, للمغرب). Folding
(``topic_rules.fold``) already drops the vowel marks and the hamza that NFKD splits off
alef; this module unifies the remaining letters and lists the forms of a word without its
proclitics, so that the term ``المغرب`` finds ``وبالمغرب`` while ``بريطانيا`` still matches
only itself (the extra forms are looked up, never substituted).
"""

from __future__ import annotations

import re
from functools import lru_cache

# One letter for each family of variants; tatweel (U+0640) is dropped.
_UNIFY = str.maketrans({"\u0649": "\u064a", "\u0629": "\u0647", "\u0640": None})
_VARIANT = re.compile("[\u0649\u0629\u0640]")


def unify_letters(text: str) -> str:
    """Alef maksura as yeh, ta marbuta as heh, no tatweel.

    ``str.translate`` looks up every character, which costs five times the rest of
    folding on Latin text; a regex search that finds nothing is nearly free.
    """
    return text.translate(_UNIFY) if _VARIANT.search(text) else text


_ARABIC = re.compile("[\u0600-\u06ff]")
_ARTICLE = "\u0627\u0644"  # ال
# Longest first. "لل" is the preposition ل before the article, whose alef is not written.
_PROCLITICS = tuple(
    sorted(
        (
            "\u0648\u0628\u0627\u0644",  # وبال
            "\u0648\u0627\u0644",  # وال
            "\u0641\u0627\u0644",  # فال
            "\u0628\u0627\u0644",  # بال
            "\u0643\u0627\u0644",  # كال
            "\u0648\u0644\u0644",  # ولل
            "\u0644\u0644",  # لل
            "\u0648\u0628",  # وب
            "\u0648\u0644",  # ول
            "\u0641\u0628",  # فب
            "\u0641\u0644",  # فل
            "\u0648",  # و
            "\u0641",  # ف
            "\u0628",  # ب
            "\u0644",  # ل
            "\u0643",  # ك
        ),
        key=len,
        reverse=True,
    )
)
MIN_STEM = 2  # letters left after stripping: shorter stems are not words worth matching


def is_arabic(word: str) -> bool:
    return bool(_ARABIC.match(word))


def without_article(word: str) -> str:
    """A term's word without its article: ``المغرب`` is looked up as ``مغرب``."""
    if word.startswith(_ARTICLE) and len(word) - 2 >= MIN_STEM:
        return word[2:]
    return word


@lru_cache(maxsize=65536)
def word_forms(word: str) -> tuple[str, ...]:
    """The word, then its forms without proclitics and article (Arabic words only)."""
    if not is_arabic(word):
        return (word,)
    forms = [word]
    for prefix in _PROCLITICS:
        if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
            forms.append(word[len(prefix) :])
    forms += [without_article(f) for f in forms]
    return tuple(dict.fromkeys(forms))
