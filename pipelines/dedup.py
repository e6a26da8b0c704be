"""Deduplication: is most of this article's own text already in one stored document?

Containment, not symmetric similarity: the seed files still carry boilerplate
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
  ``[dedup] max_document_frequency`` documents is left out of the estimate, on both sides of
  the ratio; finding that out reads at most that many + 1 postings.
- Lines that are not prose (a "Read also: ..." link, a photo credit, a line of a few words)
  are left out of the new text before it is shingled: a copy that a site interleaves with
  its own such lines is still the same text, and without them the paragraphs around each
  line join up again as they were in the original.

Print editions split long words at line ends, and a copy of one keeps the hyphens: each
split breaks the five shingles around it. Splits that are certain (a hyphen before a line
break, or before a space and a lower-case letter) are joined for every text; a hyphen inside
a word is joined only where the closest stored document has the whole word. The word and
line rules themselves (what a word is, a prose line, a certain split) live in
:mod:`pipelines.text`, shared with extraction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.models import DedupRules
from pipelines.text import dehyphenate, dehyphenated_words, normalize_words, prose

if TYPE_CHECKING:  # the workers that prepare pages never open a store
    from pipelines.store import Store

SHINGLE_WORDS = 5
SAMPLE_MOD = 4
# The thresholds (share of its own text, fewest shingles to judge, most documents a hash
# may be in and still count) are ``[dedup]`` in the config: DedupRules, pipelines/defaults.py.
RULES = DedupRules()
# A word with a hyphen inside: a compound ("état-major") or a line-end split whose line
# break is gone ("coopé-ration"); only the original the copy is compared with can tell.
_INNER_HYPHEN = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")


@dataclass(frozen=True)
class Duplicate:
    """The stored document an article copies, and how much of the article it holds."""

    article_id: int
    overlap: float  # share of the new article's sampled shingles found in that document
    exact: bool = False


@dataclass(frozen=True)
class Fingerprint:
    """What dedup needs of a text, computed once and without the store (a pure function of
    the text, so it runs in the extraction workers): its words are normalised once for the
    exact-copy hash and the index, and once more for the lookup only when leaving out the
    lines that are not prose changed the text."""

    content_hash: str
    body: str  # the text as looked up: prose(dehyphenate(text))
    lookup: frozenset[int]  # shingle_hashes(body)
    index: frozenset[int]  # shingle_hashes(text): what an original adds to the index


def fingerprint(text: str) -> Fingerprint:
    joined = dehyphenate(text)  # before prose(): a split word may end a line
    words = dehyphenated_words(joined)  # normalize_words(text), without joining twice
    body = prose(joined)
    if body == text:
        index = lookup = frozenset(_shingles(words))
    else:
        memo: dict[str, int] = {}  # the body's 5-grams are mostly the text's: hashed once
        index = frozenset(_shingles(words, memo))
        lookup = frozenset(_shingles(normalize_words(body), memo))
    return Fingerprint(_words_hash(words), body, lookup, index)


def content_hash(text: str) -> str:
    """Exact-copy identity: the same words in the same order, whatever the spacing."""
    return _words_hash(normalize_words(text))


def _words_hash(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def shingle_hashes(text: str) -> set[int]:
    return _shingles(normalize_words(text))


def _shingles(words: list[str], memo: dict[str, int] | None = None) -> set[int]:
    """The sampled hashes of the words' 5-grams; ``memo`` keeps each 5-gram's hash, for a
    second, similar text (the fingerprint's body after its text)."""
    grams = list(map(" ".join, zip(*(words[k:] for k in range(SHINGLE_WORDS)), strict=False)))
    if memo is None:
        hashes: Iterable[int] = _hashes(grams)
    else:
        new = [gram for gram in grams if gram not in memo]
        memo.update(zip(new, _hashes(new), strict=True))
        hashes = map(memo.__getitem__, grams)
    return {h for h in hashes if h % SAMPLE_MOD == 0}


def _hash(gram: str) -> int:
    # 8 bytes as a signed int: SQLite's INTEGER is a signed 64-bit number.
    digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _hashes(grams: list[str]) -> list[int]:
    """`_hash` of each gram, a quarter faster: the grams (words: no line break) are encoded
    at once and the calls are looked up once."""
    if not grams:
        return []
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    return [
        from_bytes(blake2b(data, digest_size=8).digest(), "big", signed=True)
        for data in "\n".join(grams).encode().split(b"\n")
    ]


def same_text(text: str, stored: str, rules: DedupRules = RULES) -> bool:
    """Whether most of ``text`` is in ``stored`` (one pair: no index, no frequency cap)."""
    own = shingle_hashes(prose(dehyphenate(text)))
    if len(own) < rules.min_shingles:
        return content_hash(text) == content_hash(stored)
    return len(own & shingle_hashes(stored)) / len(own) >= rules.threshold


def find_duplicate(
    store: Store,
    text: str,
    *,
    exclude_id: int | None = None,
    rules: DedupRules = RULES,
    prepared: Fingerprint | None = None,
) -> Duplicate | None:
    """The stored original that holds most of ``text``, if it holds enough of it
    (``prepared``: the text's fingerprint, when it was computed already)."""
    prepared = prepared or fingerprint(text)
    original = store.exact_original(prepared.content_hash, exclude_id=exclude_id)
    if original is not None:
        return Duplicate(article_id=original, overlap=1.0, exact=True)
    body = prepared.body
    best = best_container(
        store, body, exclude_id=exclude_id, rules=rules, hashes=set(prepared.lookup)
    )
    if best is not None and best.overlap < 1.0:
        best = _rejoined_container(store, body, best, exclude_id, rules)
    if best is None or best.overlap < rules.threshold:
        return None
    return Duplicate(article_id=best.article_id, overlap=round(best.overlap, 3))


def _rejoined_container(
    store: Store, text: str, best: Duplicate, exclude_id: int | None, rules: DedupRules
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
    stored = store.article_text(best.article_id)
    if not stored:
        return best
    vocabulary = set(normalize_words(stored))

    def join(match: re.Match[str]) -> str:
        whole = match.group(1) + match.group(2)
        return whole if "".join(normalize_words(whole)) in vocabulary else match.group(0)

    rejoined = _INNER_HYPHEN.sub(join, text)
    if rejoined == text:
        return best
    again = best_container(store, rejoined, exclude_id=exclude_id, rules=rules)
    return again if again is not None and again.overlap > best.overlap else best


def best_container(
    store: Store,
    text: str,
    *,
    exclude_id: int | None = None,
    rules: DedupRules = RULES,
    hashes: set[int] | None = None,
) -> Duplicate | None:
    """The stored document that holds the largest share of `text`'s distinctive shingles
    (``hashes``, when computed already), whatever that share; None when the text is too
    short to judge or shares nothing."""
    hashes = shingle_hashes(text) if hashes is None else hashes
    if len(hashes) < rules.min_shingles:
        return None
    distinctive = hashes - store.common_shingles(hashes, rules.max_document_frequency)
    if len(distinctive) < rules.min_shingles:
        return None
    rows = store.shared_shingle_counts(distinctive, exclude_id=exclude_id)
    if not rows:
        return None
    # Ties go to the oldest document: the original, not a later copy.
    article_id, shared = max(rows, key=lambda row: (row[1], -row[0]))
    return Duplicate(article_id=article_id, overlap=shared / len(distinctive))


def index_document(
    store: Store, article_id: int, text: str, hashes: frozenset[int] | None = None
) -> None:
    """Add an original document's shingles (``hashes``, when computed already) to the
    index, replacing any it had."""
    store.index_shingles(article_id, shingle_hashes(text) if hashes is None else hashes)
