"""Deduplication: is most of this article's own text already in one stored document?

Containment, not symmetric similarity (DESIGN.md): the seed files still carry boilerplate
(teaser lists, share widgets) that an extracted article will not, so Jaccard similarity
between a clean copy and its noisy seed is low while containment of the copy in the seed is
high. One shared background sentence or teaser line covers a small share of an article and
stays far below the threshold.

Texts are compared as sets of hashed word 5-grams ("shingles"). Only hashes with
``hash % SAMPLE_MOD == 0`` are kept, for stored and new texts alike: the share of shared
shingles is then estimated without bias from a quarter of the data, and the index stays
small. The index is a SQLite table keyed by hash, so a lookup reads only the postings of the
new text's own shingles, whatever the size of the dataset.

Two things keep a lookup both right and bounded:

- A shingle that many stored documents share (a newsletter line, a background sentence that
  every article on the topic repeats) says nothing about *which* document a text copies, and
  reading its postings would grow with the dataset. A hash found in more than
  MAX_DOCUMENT_FREQUENCY documents is left out of the estimate, on both sides of the ratio;
  finding that out reads at most MAX_DOCUMENT_FREQUENCY + 1 postings.
- Lines that are not prose (a "Read also: ..." link, a photo credit, a line of a few words)
  are left out of the new text before it is shingled: a copy that a site interleaves with
  its own such lines is still the same text, and without them the paragraphs around each
  line join up again as they were in the original.

Print editions split long words at line ends, and a copy of one keeps the hyphens: each
split breaks the five shingles around it. Splits that are certain (a hyphen before a line
break, or before a space and a lower-case letter) are joined for every text; a hyphen inside
a word is joined only where the closest stored document has the whole word.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import sqlite_utils

SHINGLE_WORDS = 5
SAMPLE_MOD = 4
# "Most of its own text": a syndicated copy with a sentence added or cut scores ~0.8-1.0;
# a new article sharing a background sentence or a teaser line scores below ~0.25.
CONTAINMENT_THRESHOLD = 0.6
# Below this many sampled shingles (~40 words) the estimate is too coarse to trust:
# such a text is a duplicate only when it is an exact copy.
MIN_SHINGLES = 8
# A hash held by more documents than this is common phrasing, not evidence (see above).
# Tuned on bench/dedup.py: with boilerplate shared by 30% of 100,000 documents, a lookup
# then costs about what it costs with 1,000 documents.
MAX_DOCUMENT_FREQUENCY = 50
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
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# A word split at a line end ("coopé-\nration"), or such a line break turned into a space
# ("coopé- ration", as text copied from a PDF reads): a letter, a hyphen, then a line break
# or one space, then a lower-case letter. "Rabat - Tel-Aviv" and "Maroc - Ecrit" stay apart.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?:[ \t]*\n\s*| )(?=[^\W\d_])")
# How a line that closes a sentence (or a heading with a colon) ends, before any closing
# quotes: "« … réciproque. »" closes one, "de l’" at the end of a printed line does not.
_SENTENCE_ENDS = (".", "!", "?", "…", ":", ";")
_CLOSING_QUOTES = "»”\"'’) \u00a0"
_CONJUNCTIONS = frozenset({"and", "or", "et", "ou", "en", "of", "und", "oder", "y", "o"})
# A word with a hyphen inside: a compound ("état-major") or a line-end split whose line
# break is gone ("coopé-ration"); only the original the copy is compared with can tell.
_INNER_HYPHEN = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")


@dataclass(frozen=True)
class Duplicate:
    """The stored document an article copies, and how much of the article it holds."""

    article_id: int
    overlap: float  # share of the new article's sampled shingles found in that document
    exact: bool = False


def normalize_words(text: str) -> list[str]:
    """Words folded for case, accents and typographic variants (’ vs ', « vs ")."""
    folded = unicodedata.normalize("NFKD", dehyphenate(text).casefold())
    if folded.isascii():
        return _WORD.findall(folded)
    if max(folded) > "\uffff":  # rare: marks outside the table below
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    else:
        # str.translate drops the marks in C: the same result at a tenth of the cost of
        # testing every character in Python (1.7 ms for a 1,000-word article).
        folded = folded.translate(_combining_marks())
    return _WORD.findall(folded)


def dehyphenate(text: str) -> str:
    """Join the words a line end split, where the split is certain (see _LINE_END_HYPHEN)."""
    if "-" not in text and text.isascii():
        return text
    return _LINE_END_HYPHEN.sub(_join_if_lower, text.translate(_INVISIBLE))


def _join_if_lower(match: re.Match[str]) -> str:
    # The second half of a split word starts in lower case; a new sentence or a name does
    # not, and "pré- et post-électoral" leaves its first half hanging on purpose.
    following = _WORD.match(match.string, match.end())
    word = following.group(0) if following else ""
    keep = not word[:1].islower() or word in _CONJUNCTIONS
    return match.group(0) if keep else ""


@cache
def _combining_marks() -> dict[int, None]:
    """Combining marks of the Basic Multilingual Plane, to delete with str.translate."""
    return {cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))}


def content_hash(text: str) -> str:
    """Exact-copy identity: the same words in the same order, whatever the spacing."""
    return hashlib.sha256(" ".join(normalize_words(text)).encode()).hexdigest()


def shingle_hashes(text: str) -> set[int]:
    words = normalize_words(text)
    if len(words) < SHINGLE_WORDS:
        return set()
    hashes = set()
    for i in range(len(words) - SHINGLE_WORDS + 1):
        gram = " ".join(words[i : i + SHINGLE_WORDS]).encode()
        # 8 bytes as a signed int: SQLite's INTEGER is a signed 64-bit number.
        h = int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "big", signed=True)
        if h % SAMPLE_MOD == 0:
            hashes.add(h)
    return hashes


def same_text(text: str, stored: str) -> bool:
    """Whether most of ``text`` is in ``stored`` (one pair: no index, no frequency cap)."""
    own = shingle_hashes(prose(dehyphenate(text)))
    if len(own) < MIN_SHINGLES:
        return content_hash(text) == content_hash(stored)
    return len(own & shingle_hashes(stored)) / len(own) >= CONTAINMENT_THRESHOLD


def find_duplicate(
    db: sqlite_utils.Database, text: str, *, exclude_id: int | None = None
) -> Duplicate | None:
    """The stored original that holds most of ``text``, if it holds enough of it."""
    digest = content_hash(text)
    row = db.execute(
        "SELECT id, duplicate_of FROM articles WHERE content_hash = ? AND id IS NOT ?"
        " ORDER BY id LIMIT 1",
        [digest, exclude_id],
    ).fetchone()
    if row:
        return Duplicate(article_id=row[1] or row[0], overlap=1.0, exact=True)
    body = prose(dehyphenate(text))  # before prose(): a split word may end a line
    best = best_container(db, body, exclude_id=exclude_id)
    if best is not None and best.overlap < 1.0:
        best = _rejoined_container(db, body, best, exclude_id)
    if best is None or best.overlap < CONTAINMENT_THRESHOLD:
        return None
    return Duplicate(article_id=best.article_id, overlap=round(best.overlap, 3))


def _rejoined_container(
    db: sqlite_utils.Database, text: str, best: Duplicate, exclude_id: int | None
) -> Duplicate:
    """``best`` again, once the words a print layout split ("coopé-ration") are whole.

    A print-edition copy keeps the hyphens of its line ends when its lines are joined, and
    every split word breaks the five shingles around it: at one split in twenty words the
    copy loses a quarter of its evidence. Whether "coopé-ration" is one word or "état-major"
    two is decided by the closest stored document: a hyphenated pair is joined when that
    document has the joined word. Compounds stay as they are, and nothing changes for a
    text without hyphens or when the candidate has none of the joined words.
    """
    if not _INNER_HYPHEN.search(text):
        return best
    row = db.execute("SELECT text FROM articles WHERE id = ?", [best.article_id]).fetchone()
    if not row or not row[0]:
        return best
    vocabulary = set(normalize_words(row[0]))

    def join(match: re.Match[str]) -> str:
        whole = match.group(1) + match.group(2)
        return whole if "".join(normalize_words(whole)) in vocabulary else match.group(0)

    rejoined = _INNER_HYPHEN.sub(join, text)
    if rejoined == text:
        return best
    again = best_container(db, rejoined, exclude_id=exclude_id)
    return again if again is not None and again.overlap > best.overlap else best


def prose(text: str) -> str:
    """The text without the lines that are not running text (see the module docstring)."""
    lines = [line for line in unwrapped(text.splitlines()) if _is_prose(line)]
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


def _is_prose(line: str) -> bool:
    return len(line.split()) >= MIN_LINE_WORDS and not _LINK_LINE.match(line.strip())


def best_container(
    db: sqlite_utils.Database, text: str, *, exclude_id: int | None = None
) -> Duplicate | None:
    """The stored document that holds the largest share of `text`'s distinctive shingles,
    whatever that share; None when the text is too short to judge or shares nothing."""
    hashes = shingle_hashes(text)
    if len(hashes) < MIN_SHINGLES:
        return None
    query = json.dumps(sorted(hashes))
    common = {
        row[0]
        for row in db.execute(
            "SELECT value FROM json_each(?) WHERE (SELECT count(*) FROM"
            " (SELECT 1 FROM shingles WHERE hash = value LIMIT ?)) > ?",
            [query, MAX_DOCUMENT_FREQUENCY + 1, MAX_DOCUMENT_FREQUENCY],
        )
    }
    distinctive = hashes - common
    if len(distinctive) < MIN_SHINGLES:
        return None
    rows = db.execute(
        "SELECT article_id, count(*) FROM shingles WHERE hash IN (SELECT value FROM"
        " json_each(?)) AND article_id IS NOT ? GROUP BY article_id",
        [json.dumps(sorted(distinctive)), exclude_id],
    ).fetchall()
    if not rows:
        return None
    # Ties go to the oldest document: the original, not a later copy.
    article_id, shared = max(rows, key=lambda row: (row[1], -row[0]))
    return Duplicate(article_id=article_id, overlap=shared / len(distinctive))


def index_document(db: sqlite_utils.Database, article_id: int, text: str) -> None:
    """Add an original document's shingles to the index (replacing any it had)."""
    db.execute("DELETE FROM shingles WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO shingles (hash, article_id) VALUES (?, ?)",
        [(h, article_id) for h in shingle_hashes(text)],
    )
