"""Quote a matched article in its own spelling: the matched words and a short snippet.

Matching runs on folded text ("Israel" for "Israël"); a reader wants the original. Only
matched articles are quoted, and only the paragraphs that hold a quoted word are cut into
words again, so explaining a match costs little more than finding it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate

from pipelines.topics.rules import Document, fold_offsets, part_spans

SNIPPET_CHARS = 200


class Quoter:
    """Finds the original characters of folded words, one paragraph at a time."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._offsets = fold_offsets(doc.source)
        # Rare text that cannot be mapped back is quoted folded rather than misquoted.
        self.text = doc.source if self._offsets is not None else doc.folded
        self._starts = [0, *accumulate(len(part) + 1 for part in doc.parts)]
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def words(self, start: int, end: int) -> str:
        """Words ``start`` to ``end`` (exclusive) as the article wrote them."""
        low, high = self._chars(start, end)
        return " ".join(self.text[low:high].split())

    def snippet(self, start: int, end: int) -> str:
        """About SNIPPET_CHARS characters around words ``start`` to ``end``."""
        return excerpt(self.text, *self._chars(start, end))

    def _chars(self, start: int, end: int) -> tuple[int, int]:
        return self._word(start)[0], self._word(end - 1)[1]

    def _word(self, index: int) -> tuple[int, int]:
        part = self.doc.paragraphs[index]
        spans = self._spans.get(part)
        if spans is None:
            spans = self._spans[part] = part_spans(self.doc.parts[part])
        low, high = spans[index - bisect_left(self.doc.paragraphs, part)]
        low, high = low + self._starts[part], high + self._starts[part]
        if self._offsets is None:
            return low, high
        return self._offsets[low], self._offsets[high - 1] + 1


def excerpt(text: str, start: int, end: int) -> str:
    """About SNIPPET_CHARS characters around [start, end), not cutting words in two.

    ``text`` is a title, a newline and the text; the title is set off with a dash.
    """
    end = min(end, start + SNIPPET_CHARS)
    pad = (SNIPPET_CHARS - (end - start)) // 2
    low = max(0, min(start - pad, len(text) - SNIPPET_CHARS))
    high = min(len(text), low + SNIPPET_CHARS)
    if low > 0 and not text[low - 1].isspace():
        space = re.search(r"\s", text[low:start])
        low = low + space.end() if space else low
    if high < len(text) and not text[high].isspace():
        high = _last_space(text, end, high) or _last_space(text, start + 1, high) or high
    title_end = text.index("\n")
    piece = text[low:high]
    if low < title_end < high:
        piece = text[low:title_end] + "\x00" + text[title_end + 1 : high]
    piece = " ".join(piece.split()).replace("\x00", " — ")
    return ("…" if low > 0 else "") + piece + ("…" if high < len(text) else "")


def _last_space(text: str, low: int, high: int) -> int | None:
    spaces = [m.start() for m in re.finditer(r"\s", text[low:high])]
    return low + spaces[-1] if spaces else None
