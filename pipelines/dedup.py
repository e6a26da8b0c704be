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
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import sqlite_utils

SHINGLE_WORDS = 5
SAMPLE_MOD = 4
# "Most of its own text": a syndicated copy with a sentence added or cut scores ~0.8-1.0;
# a new article sharing a background sentence or a teaser line scores below ~0.25.
CONTAINMENT_THRESHOLD = 0.6
# Below this many sampled shingles (~40 words) the estimate is too coarse to trust:
# such a text is a duplicate only when it is an exact copy.
MIN_SHINGLES = 8

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Duplicate:
    """The stored document an article copies, and how much of the article it holds."""

    article_id: int
    overlap: float  # share of the new article's sampled shingles found in that document
    exact: bool = False


def normalize_words(text: str) -> list[str]:
    """Words folded for case, accents and typographic variants (’ vs ', « vs ")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(folded)


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
    hashes = shingle_hashes(text)
    if len(hashes) < MIN_SHINGLES:
        return None
    best = _best_container(db, hashes, exclude_id)
    if best is None:
        return None
    article_id, shared = best
    overlap = shared / len(hashes)
    if overlap < CONTAINMENT_THRESHOLD:
        return None
    return Duplicate(article_id=article_id, overlap=round(overlap, 3))


def _best_container(
    db: sqlite_utils.Database, hashes: set[int], exclude_id: int | None
) -> tuple[int, int] | None:
    values = list(hashes)
    # One query per chunk keeps us under SQLite's bound-parameter limit for long texts.
    counts: dict[int, int] = {}
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for article_id, n in db.execute(
            f"SELECT article_id, count(*) FROM shingles WHERE hash IN ({marks})"
            " GROUP BY article_id",
            chunk,
        ):
            if article_id != exclude_id:
                counts[article_id] = counts.get(article_id, 0) + n
    if not counts:
        return None
    # Ties go to the oldest document: the original, not a later copy.
    article_id = max(counts, key=lambda a: (counts[a], -a))
    return article_id, counts[article_id]


def index_document(db: sqlite_utils.Database, article_id: int, text: str) -> None:
    """Add an original document's shingles to the index (replacing any it had)."""
    db.execute("DELETE FROM shingles WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO shingles (hash, article_id) VALUES (?, ?)",
        [(h, article_id) for h in shingle_hashes(text)],
    )
