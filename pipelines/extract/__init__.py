"""The extract stage: one fetched page in, one `Article` out, or None when it is no article.

trafilatura removes the boilerplate; this package owns its quirks, one module per step:

- ``decode``: page bytes to text, in the charset the bytes are really in;
- ``cleanup``: the tree trafilatura reads (consent dialogs out, a huge page cut) and the
  lines it returns ("read also" headings, tag lines, link lists out; the chapô back in);
- ``gate``: "is this an article?", decided with our own thresholds, tested on real pages
  and on handmade non-articles;
- ``fallback``: the page's JSON-LD body or trafilatura's default mode, when precision mode
  keeps too little of the page;
- ``metadata``: title, publication date and language, from what the page declares first.

`extract_article` is a pure function of its arguments (no I/O, no shared state besides a
read-only language model loaded once per process), so that it can run in a process pool.
docs/extraction.md describes the whole stage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document

from pipelines.extract.cleanup import (
    MAX_ELEMENTS,
    clean_lines,
    may_have_lead,
    parse_source,
    trim_tree,
    with_lead,
    without_headline,
    without_link_items,
)
from pipelines.extract.decode import page_source
from pipelines.extract.fallback import better_lines, is_short, page_prose_words, run_default
from pipelines.extract.gate import is_article
from pipelines.extract.metadata import (
    canonical_link,
    choose_lang,
    choose_published,
    choose_title,
    declared_lang,
    jsonld_headline,
    jsonld_published,
    latest_allowed,
    meta_published,
)
from pipelines.extract.pagemeta import page_date, page_metadata
from pipelines.extract.speedups import speed_up
from pipelines.hooks import NO_HOOKS, SourceHooks
from pipelines.models import Article, PageHints
from pipelines.text import unwrapped

__all__ = ["Extracted", "as_document", "extract_article", "extract_page", "run_trafilatura"]

logger = logging.getLogger(__name__)

speed_up()  # trafilatura's XPath expressions, cheaper, same results (speedups.py)


@dataclass(frozen=True)
class Extracted:
    """`extract_page`'s result: the article (None: not one) and the page's own
    ``<link rel="canonical">``, read from the same parse."""

    article: Article | None
    canonical_url: str | None = None


def extract_article(
    html: bytes | str,
    url: str,
    *,
    hints: PageHints | None = None,
    encoding: str | None = None,
    hooks: SourceHooks = NO_HOOKS,
) -> Article | None:
    """The article on a page, or None if the page is not one (or not readable at all).

    `encoding` is the charset of the HTTP Content-Type header, if any. `hints` carry what
    discovery knew (feed title and date, the source's language, the fetch time); they are
    used only where the page itself says nothing. `hooks` are the source's own rules
    (pipelines/hooks.py): they see the decoded HTML first and the article last.
    """
    return extract_page(html, url, hints=hints, encoding=encoding, hooks=hooks).article


def extract_page(
    html: bytes | str,
    url: str,
    *,
    hints: PageHints | None = None,
    encoding: str | None = None,
    hooks: SourceHooks = NO_HOOKS,
) -> Extracted:
    """`extract_article`, and the page's canonical link: every stage reads one parse."""
    hints = hints or PageHints()
    source = page_source(html, encoding, url)
    if source is not None:
        source = hooks.page_html(source, url)
    tree = None if source is None else parse_source(source)
    if source is None or tree is None:
        return Extracted(None)
    canonical = canonical_link(tree, url)  # before trafilatura, which may prune the head
    article = _extract(tree, source, url, hints, hooks)
    return Extracted(article, canonical)


def _extract(
    tree: HtmlElement, source: str, url: str, hints: PageHints, hooks: SourceHooks
) -> Article | None:
    elements = trim_tree(tree)
    if elements:
        logger.warning(
            "%s: %d HTML elements; extracting from the first %d only", url, elements, MAX_ELEMENTS
        )
    # trafilatura's main extractor alone first: its readability and jusText comparison
    # costs about 40% of an extraction and changes nothing on a page whose text it already
    # holds. It runs only when the text fails the article gate or holds less than half of
    # the page's paragraph prose. (trafilatura and its metadata read copies of ``tree``:
    # every stage here sees the page as parsed.)
    document = run_trafilatura(tree, url, compare=False)
    has_lead = may_have_lead(tree)

    def cleanup(text: str, tree: HtmlElement) -> list[str]:
        # A print column kept line by line (<br>) is one paragraph, not forty short lines.
        lines = unwrapped(without_link_items(clean_lines(text), tree))
        # Searching the class values for the few names costs ~0.02 ms, the XPath ~0.8 ms.
        return with_lead(lines, tree) if has_lead else lines

    lines = cleanup((document.text or "") if document else "", tree)
    passes = is_article(lines, tree)
    prose = page_prose_words(tree)
    if not passes or is_short(lines, prose):
        document = run_trafilatura(tree, url, compare=True, metadata=document) or document
        lines = cleanup((document.text or "") if document else "", tree)
        passes = is_article(lines, tree)
    # When precision mode kept too little, the page's JSON-LD body or the default mode
    # may hold the text (pipelines/extract/fallback.py).
    better = better_lines(
        lines,
        passes,
        tree,
        cleanup,
        lambda t: run_default(t, url, metadata=document is None),
        prose,
    )
    if better is not None:
        (lines, fallback_document), passes = better, True
        document = document or fallback_document
    if document is None or not passes:
        return None
    site = document.sitename
    title = choose_title([jsonld_headline(tree), document.title, hints.feed_title], site)
    text = "\n".join(without_headline(lines, title))
    # Each candidate is read only if those before it gave no plausible date: htmldate's
    # search of the page (~0.6 ms) is needed only without a JSON-LD or meta date.
    found = document  # narrowed for the lambdas
    candidates: tuple[tuple[str, Callable[[], str | None]], ...] = (
        ("jsonld", lambda: jsonld_published(tree)),
        ("meta", lambda: meta_published(tree)),
        ("html", lambda: found.date or page_date(tree, found.url, hints)),
        ("sitemap" if hints.found_via == "sitemap" else "feed", lambda: hints.feed_published),
    )
    published, date_source = choose_published(
        ((source, read()) for source, read in candidates), latest_allowed(hints.fetched_at)
    )
    article = Article(
        url=url,
        title=title,
        text=text,
        published=published,
        author=document.author,
        lang=choose_lang(declared_lang(tree), text, hints.lang),
        site=site,
        date_source=date_source,
    )
    return hooks.article(article, source)


def run_trafilatura(
    tree: HtmlElement,
    url: str,
    *,
    compare: bool = True,
    metadata: Document | None = None,
) -> Document | None:
    """trafilatura configured for precision: these settings scored best on the real pages,
    whose mean token F1 against the true text tests/test_extract pins (docs/extraction.md).
    ``compare=False`` skips its comparison with readability and jusText (``fast``);
    ``metadata``: the page's, from an earlier run (it takes this run's text). The
    document's ``date`` is None: htmldate is asked only when the page declares no date
    (`pipelines.extract.pagemeta.page_date`)."""
    result = as_document(
        bare_extraction(
            tree,
            url=url,
            with_metadata=False,  # read below, without the fields newswatch does not use
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
            fast=not compare,
        )
    )
    if result is None:
        return None
    document = metadata if metadata is not None else page_metadata(tree, url, None)
    for name in ("text", "raw_text", "body", "comments", "commentsbody"):
        setattr(document, name, getattr(result, name, None))
    return document


def as_document(result: Document | dict[str, Any] | None) -> Document | None:
    """Narrow bare_extraction's union once: a dict (legacy `as_dict`) becomes a Document."""
    if isinstance(result, dict):
        return Document.from_dict(result)
    return result
