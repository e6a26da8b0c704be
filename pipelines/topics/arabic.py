"""Arabic spelling variants, so that a topic's Arabic terms meet the words of the news.

Arabic news writes one word in several ways: with or without hamza on the alef (إسرائيل,
اسرائيل), with a final yeh or alef maksura (على, علي), with ta marbuta or heh (دفاعية,
دفاعيه), stretched with tatweel (عـسكري), and glued to proclitics: the conjunctions و and
ف, the prepositions ب, ل and ك, and the article ال (والمغرب, بالمغرب, للمغرب). Folding
(``topic_rules.fold``) already drops the vowel marks and the hamza that NFKD splits off
alef; this module unifies the remaining letters and lists the forms of a word without its
proclitics, so that the term ``المغرب`` finds ``وبالمغرب`` while ``بريطانيا`` still matches
only itself (the extra forms are looked up, never substituted).

Normalisation must never create a match that the words as written do not support:

- A stripped form is only ever compared with the terms, so it matches only when the stem
  is itself a term, and only the real proclitics above are stripped.
- An alef carrying a hamza before lam at the start of a word (إلبيت, ألبيت: Elbit) is not
  the article ال, although folding would otherwise drop the hamza and make it one. It is
  kept apart (``keep_hamza_lam``), so the term ``إلبيت`` never becomes "البيت" (the house)
  and never matches the White House (البيت الأبيض), Bethlehem (بيت لحم) or the Prophet's
  family (آل البيت).

Hebrew words get the same treatment for their one-letter prefixes (``topic_hebrew``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipelines.topics.hebrew import fold_hebrew, is_hebrew, prefix_forms

# One letter for each family of variants; tatweel (U+0640) is dropped.
_UNIFY = str.maketrans({"\u0649": "\u064a", "\u0629": "\u0647", "\u0640": None})
_VARIANT = re.compile("[\u0649\u0629\u0640]")


def unify_letters(text: str) -> str:
    """Alef maksura as yeh, ta marbuta as heh, no tatweel; Hebrew final letters unified.

    ``str.translate`` looks up every character, which costs five times the rest of
    folding on Latin text; a regex search that finds nothing is nearly free.
    """
    text = text.translate(_UNIFY) if _VARIANT.search(text) else text
    return fold_hebrew(text)


# In NFKD text: alef, its hamza (above or below, among other marks), then lam, at the start
# of a word or after one or two proclitic letters.
_HAMZA_LAM = re.compile(
    "(?<![\\w\u064b-\u065f])([\u0648\u0641\u0628\u0644\u0643]{0,2})"
    "\u0627[\u064b-\u0653]*[\u0654\u0655][\u064b-\u0653]*(?=\u0644)"
)
_HAMZA_MARK = re.compile("[\u0654\u0655]")


def keep_hamza_lam(decomposed: str) -> str:
    """Write a word-initial hamza-alef before lam as one letter (إ), before marks are dropped.

    Takes NFKD text, where the hamza is a separate mark that folding would remove; the
    result has the same length as the folded text would have had.
    """
    if not _HAMZA_MARK.search(decomposed):
        return decomposed
    return _HAMZA_LAM.sub(lambda m: m.group(1) + "\u0625", decomposed)


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


def has_clitics(word: str) -> bool:
    """Whether the word is Arabic or Hebrew, whose words carry proclitics or prefixes."""
    return is_arabic(word) or is_hebrew(word)


def without_article(word: str) -> str:
    """A term's word without its article: ``المغرب`` is looked up as ``مغرب``."""
    if word.startswith(_ARTICLE) and len(word) - 2 >= MIN_STEM:
        return word[2:]
    return word


@lru_cache(maxsize=65536)
def word_forms(word: str) -> tuple[str, ...]:
    """The word, then its forms without proclitics and article (Arabic and Hebrew words)."""
    if is_hebrew(word):
        return (word, *prefix_forms(word))
    if not is_arabic(word):
        return (word,)
    forms = [word]
    for prefix in _PROCLITICS:
        if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
            forms.append(word[len(prefix) :])
    forms += [without_article(f) for f in forms]
    return tuple(dict.fromkeys(forms))
