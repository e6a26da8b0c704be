"""A second opinion when trafilatura's precision mode keeps too little of a page.

Precision mode is right on nearly every real page (tests/extract/test_saved_pages.py), but a
template that hides the story from it (a bordered, ``aria-hidden`` box, say) leaves it a
byline and a reprint notice: the page is then "not an article", or an article of three
lines. Two other readings of the page can hold the text:

- the page's own JSON-LD ``articleBody`` (free: the JSON-LD is read for the date anyway);
- trafilatura's default mode, a second extraction, run only when the precision text fails
  the article gate or holds less than ``SHORT_SHARE`` of the prose in the page's ``<p>``
  elements. On the 91 real pages that is 5 pages in 91; none of them changes.

A candidate replaces the precision text when, after the same cleanup, it passes the same
article gate, is mostly prose (``MIN_PROSE_SHARE`` of its words in paragraphs) and the
precision text holds less than ``SHORT_SHARE`` of its words. Between two such candidates
the JSON-LD body (what the publisher declares) wins unless the default mode's text is
``1 / PREFER_DECLARED`` times longer.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import lxml.html
from lxml.etree import ParserError
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document

from pipelines.extract.gate import MIN_PARAGRAPH_WORDS, is_article
from pipelines.extract.metadata import jsonld_documents
from pipelines.text import count_words

# The precision text is "short" below this share of a candidate's words (or of the page's
# paragraph prose, for deciding whether to run the default mode at all).
SHORT_SHARE = 0.5
# A candidate must be prose: this share of its words in lines of MIN_PARAGRAPH_WORDS or more
# (a default-mode text that is mostly menus, captions or link lists is not taken).
MIN_PROSE_SHARE = 0.6
# The declared body wins over the default mode's text unless that has this much more.
PREFER_DECLARED = 0.8

_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|blockquote)>")
_ARTICLE_TYPES = ("Article", "NewsArticle", "BlogPosting", "Report")

Lines = list[str]


def better_lines(
    lines: Lines,
    passes: bool,
    tree: HtmlElement,
    cleanup: Callable[[str, HtmlElement], Lines],
    extract_default: Callable[[HtmlElement], Document | None],
    prose: int,
) -> tuple[Lines, Document | None] | None:
    """Lines better than the precision ``lines`` (``passes``: whether they pass the article
    gate; ``prose``: the page's `page_prose_words`), with the default-mode document when
    they come from it; None when the precision text stands (see the module's rule)."""
    words = _words(lines)
    candidates: list[tuple[str, Lines, Document | None]] = []
    body = jsonld_body(tree)
    # Cleanup only takes words away: a body the precision text already holds half of can
    # never win, and most pages are such pages, so they pay for no second cleanup.
    if body and words < SHORT_SHARE * count_words(body):
        candidates.append(("jsonld", cleanup(body, tree), None))
    if not passes or is_short(lines, prose):
        document = extract_default(tree)  # trafilatura reads a copy: the tree is as it was
        if document is not None and document.text:
            candidates.append(("default", cleanup(document.text, tree), document))
    good = [
        (name, found, document)
        for name, found, document in candidates
        if words < SHORT_SHARE * _words(found) and _is_prose(found) and is_article(found, tree)
    ]
    if not good:
        return None
    declared = next((c for c in good if c[0] == "jsonld"), None)
    default = next((c for c in good if c[0] == "default"), None)
    if declared and (
        default is None or _words(declared[1]) >= PREFER_DECLARED * _words(default[1])
    ):
        return declared[1], None
    assert default is not None
    return default[1], default[2]


def jsonld_body(tree: HtmlElement) -> str | None:
    """The ``articleBody`` of the page's Article-like JSON-LD object, as plain lines."""
    for node in _article_nodes(tree):
        value = node.get("articleBody")
        if isinstance(value, str) and value.strip():
            return _plain(value)
    return None


def is_short(lines: Lines, prose: int) -> bool:
    """Whether ``lines`` hold less than SHORT_SHARE of the page's paragraph prose."""
    return _words(lines) < SHORT_SHARE * prose


def page_prose_words(tree: HtmlElement) -> int:
    """Words in the page's ``<p>`` elements of at least MIN_PARAGRAPH_WORDS words."""
    total = 0
    for p in tree.iter("p"):
        n = count_words(p.text_content())
        if n >= MIN_PARAGRAPH_WORDS:
            total += n
    return total


def _article_nodes(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for data in jsonld_documents(tree):  # parsed once per page (metadata.py)
        stack: list[tuple[Any, int]] = [(data, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > 8:  # real documents nest 3 or 4 deep
                continue
            if isinstance(item, list):
                stack.extend((x, depth + 1) for x in reversed(item))
            elif isinstance(item, dict):
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(k, str) and k.endswith(_ARTICLE_TYPES) for k in kinds):
                    yield item
                stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))


def _plain(value: str) -> str:
    """An articleBody as text lines: some CMSs write HTML into it, most write plain text."""
    if "<" in value and ">" in value:
        marked = _BLOCK_END.sub("\n", value)
        with contextlib.suppress(ParserError, ValueError):
            value = lxml.html.fromstring(f"<div>{marked}</div>").text_content()
    return html.unescape(value)


def _words(lines: Lines) -> int:
    return sum(count_words(line) for line in lines)


def _is_prose(lines: Lines) -> bool:
    counts = [count_words(line) for line in lines]
    total = sum(counts)
    prose = sum(n for n in counts if n >= MIN_PARAGRAPH_WORDS)
    return total > 0 and prose >= MIN_PROSE_SHARE * total


def run_default(tree: HtmlElement, url: str, metadata: bool) -> Document | None:
    """trafilatura's default (balanced) mode on ``tree`` as a Document (with the page's
    metadata only when asked: the precision run's is used when there is one)."""
    result = bare_extraction(
        tree,
        url=url,
        with_metadata=metadata,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        # Its main extractor only: the readability and jusText comparisons already ran in
        # the precision pass, and would double the cost of this one.
        fast=True,
    )
    return Document.from_dict(result) if isinstance(result, dict) else result
