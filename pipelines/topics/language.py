"""Which language each paragraph of an article is written in, so terms stay in theirs.

A term may belong to some languages only (see ``topic_rules``): the English "tank" is not
evidence inside the French "think tank", nor the Dutch "leger" (army) inside the French
"léger" (light). Matching needs the language of the words it looks at, and an article
often mixes them: a headline in one language over a text in another, a quoted sentence,
a wire copy with an English dateline.

Each paragraph is judged on its own words, one dictionary look-up each: Arabic and
Hebrew by their letters, the Latin-script languages by the short words only they use
("the", "het", "les", "los"). A paragraph too short to tell (most headlines) may be in
the language of the article (the one the page declares, else the one its paragraphs show
most) or in any language it has a function word of. It is worked out only for articles
where a term scoped to some languages was found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Short words that are common in one language and rare in the others. A word shared by
# two languages ("de", "la", "en", "in", "is", "un") tells nothing and is left out.
_FUNCTION_WORDS = {
    "en": "the of and to was for with that said by from has have are its were which "
    "will would been their this these after but not",
    "fr": "le les des du et une est dans pour qui sur au aux par avec ont ses cette été "
    "selon mais sont il elle leur ou",
    "nl": "het een van op met voor dat die niet zijn naar ook bij wordt werd heeft door "
    "om aan maar nog er te uit hij zij",
    "es": "el los las del y una por con para se su al lo como más sus ha han según pero "
    "sobre este esta fue",
}
# Looked up as written (folding keeps case): lower case, capitalised and upper case.
_SETS = {
    lang: frozenset(f for w in words.split() for f in (w, w.capitalize(), w.upper()))
    for lang, words in _FUNCTION_WORDS.items()
}
_SCRIPTS = {"ar": re.compile("[\u0600-\u06ff]"), "he": re.compile("[\u0590-\u05ff]")}
MIN_WORDS = 2  # distinct function words a paragraph needs before its language is trusted

Votes = dict[str, int]  # language -> distinct function words of it found


def votes_of(words: Sequence[str], rtl: bool = True) -> Votes:
    """Evidence of each language in some (folded) words; ``rtl``: they may hold Arabic
    or Hebrew (folding knows whether the article has any). A set intersection per
    language: no Python-level work per word."""
    if rtl and words:
        for lang, script in _SCRIPTS.items():
            found = sum(1 for w in words if script.match(w))
            if found * 2 > len(words):
                return {lang: found}
    return {lang: n for lang, known in _SETS.items() if (n := len(known.intersection(words)))}


def decided(votes: Votes) -> str | None:
    """The language the votes show clearly, or None."""
    if not votes:
        return None
    ranked = sorted(votes.values(), reverse=True)
    best = max(votes, key=votes.__getitem__)
    runner_up = ranked[1] if len(ranked) > 1 else 0
    return best if ranked[0] >= MIN_WORDS and ranked[0] >= 2 * runner_up else None


def article_language(words: Sequence[str], declared: str | None, rtl: bool = True) -> str | None:
    """The article's language: the one the page declares (an ISO 639-1 code, as extraction
    stores it), else the one its words show most; None if unknown."""
    article = (declared or "").split("-")[0].casefold() or None
    if article is not None:
        return article
    votes = votes_of(words, rtl)
    return max(votes, key=votes.__getitem__) if votes else None


def possible(votes: Votes, article: str | None) -> frozenset[str] | None:
    """The languages a paragraph may be in, given its votes; None: unknown, all may match.

    A paragraph whose words decide is in that language. Another (a short headline) may be
    in the article's language, or in any language it shows a function word of.
    """
    lang = decided(votes)
    if lang:
        return frozenset((lang,))
    return None if article is None else frozenset((article, *votes))
