"""Word and line rules shared by extraction, deduplication and the store's migrations.

What counts as a word, which words a print layout split at a line end, which lines are
running text: extraction decides with these rules whether a page holds an article, and
deduplication compares texts with them. Kept in one module, so that the two stages cannot
drift apart and a migration that recomputes stored hashes uses the very same rules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# Lines of fewer words than this are headings, credits or link lines, not running text.
MIN_LINE_WORDS = 8

# "Read also: <headline>" and its cousins, written as a line of the text.
_LINK_LINE = re.compile(
    r"^\W*(?:(?:à |a )?lire(?: aussi| également)?|voir aussi|lees (?:ook|meer)|zie ook"
    r"|read (?:also|more)|see also|related|more|اقرأ أيضا)\s*:",
    re.IGNORECASE,
)

_WORD = re.compile(r"\w+")
# Characters that never separate two words: a soft hyphen, zero-width spaces and joiners.
_INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
# A word split at a line end ("coopé-\nration"), or such a line break turned into a space
# ("coopé- ration", as text copied from a PDF reads): a letter, a hyphen, then a line break
# or one space, then a lower-case letter. "Rabat - Tel-Aviv" and "Maroc - Ecrit" stay apart.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?:[ \t]*\n\s*| )(?=[^\W\d_])")
# How a line that closes a sentence (or a heading with a colon) ends, before any closing
# quotes: "« … réciproque. »" closes one, "de l’" at the end of a printed line does not.
_SENTENCE_ENDS = (".", "!", "?", "…", ":", ";")
_CLOSING_QUOTES = "»”\"'’) \u00a0"
_CONJUNCTIONS = frozenset({"and", "or", "et", "ou", "en", "of", "und", "oder", "y", "o"})

# Characters of scripts written without spaces: two of them weigh about one word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words separated by spaces, plus one per two CJK characters (written without spaces)."""
    return len(text.split()) + len(_CJK.findall(text)) // 2


def normalize_words(text: str) -> list[str]:
    """Words folded for case, accents and typographic variants (’ vs ', « vs ")."""
    return dehyphenated_words(dehyphenate(text))


def dehyphenated_words(text: str) -> list[str]:
    """`normalize_words` of a text `dehyphenate` already went over."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if folded.isascii():
        return _WORD.findall(folded)
    if max(folded) > "\uffff":  # rare: marks outside the table below
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    else:
        # One character class of every mark drops them in C: the same result at a fortieth
        # of the cost of testing every character in Python (1.7 ms for a 1,000-word
        # article), and a quarter of str.translate's (a dict lookup per character).
        folded = _combining_marks().sub("", folded)
    return _WORD.findall(folded)


def dehyphenate(text: str) -> str:
    """Join the words a line end split, where the split is certain (see _LINE_END_HYPHEN)."""
    if "-" not in text and text.isascii():
        return text
    if any(char in text for char in _INVISIBLE_CHARS):  # rare; translate() is per character
        text = text.translate(_INVISIBLE)
    return _LINE_END_HYPHEN.sub(_join_if_lower, text)


def _join_if_lower(match: re.Match[str]) -> str:
    # The second half of a split word starts in lower case; a new sentence or a name does
    # not, and "pré- et post-électoral" leaves its first half hanging on purpose.
    following = _WORD.match(match.string, match.end())
    word = following.group(0) if following else ""
    keep = not word[:1].islower() or word in _CONJUNCTIONS
    return match.group(0) if keep else ""


@cache
def _combining_marks() -> re.Pattern[str]:
    """Combining marks of the Basic Multilingual Plane, as one character class."""
    marks = [cp for cp in range(0x10000) if unicodedata.combining(chr(cp))]
    ranges: list[tuple[int, int]] = []
    for cp in marks:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    spans = "".join(
        re.escape(chr(low)) + ("" if low == high else "-" + re.escape(chr(high)))
        for low, high in ranges
    )
    return re.compile(f"[{spans}]+")


def prose(text: str) -> str:
    """The text without the lines that are not running text: a "Read also: ..." link, a
    photo credit, a line of a few words.

    A copy that a site interleaves with its own such lines is still the same text, and
    without them the paragraphs around each line join up again as they were in the original.
    """
    lines = [line for line in unwrapped(text.splitlines()) if is_prose_line(line)]
    # A text of short lines only (a list, a poem) is kept whole rather than emptied.
    return "\n".join(lines) if lines else text


def unwrapped(lines: list[str]) -> list[str]:
    """Lines a layout broke inside a sentence joined again (a print column, ``<br>`` tags).

    A line that ends without closing punctuation and a next line that starts in lower case
    are one sentence. Without this, a column of five-word lines would be dropped as short
    lines; captions, credits and "read also" lines end or are followed by a new sentence.
    A word split at the line end keeps its hyphen ("coopé-ration"): it may be a compound;
    an elision stays attached ("l’administration").
    """
    joined: list[str] = []
    for line in lines:
        stripped = line.strip()
        ends = joined[-1].rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_ENDS) if joined else True
        if not ends and stripped[:1].islower():
            joined[-1] += ("" if joined[-1].endswith(("-", "’", "'")) else " ") + stripped
        elif stripped:
            joined.append(stripped)
    return joined


def is_prose_line(line: str) -> bool:
    """A line of running text: at least MIN_LINE_WORDS words and not a "read also" link."""
    return len(line.split()) >= MIN_LINE_WORDS and not _LINK_LINE.match(line.strip())
