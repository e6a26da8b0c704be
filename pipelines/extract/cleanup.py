"""Tree and line cleanup around trafilatura: what it should not see, and what it lets through.

Before trafilatura: the page parsed once, cookie-consent dialogs dropped, a huge tree cut.
After it: "read also" headings, reading-time badges, tag lines and lists of related links
removed from its lines, a lead paragraph (chapô) it left out put back, and a first line
that repeats the headline dropped.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from itertools import accumulate

from lxml.etree import ParserError, XPath
from lxml.html import HtmlElement
from trafilatura import load_html

from pipelines.extract.decode import page_source
from pipelines.text import count_words


def _unnamed_parse_error(record: logging.LogRecord) -> bool:
    """trafilatura logs "parsed tree length: 0" at ERROR for a page that is not HTML, with
    no URL; newswatch says it once, naming the page (pipelines/extract/decode.py)."""
    return not str(record.msg).startswith("parsed tree length")


logging.getLogger("trafilatura.utils").addFilter(_unnamed_parse_error)

# trafilatura's time grows faster than linearly with the number of elements: 1.8 s for a
# page of 20,000 short paragraphs, 95 s for 200,000. The real pages have at most 1,600
# elements, so a page past MAX_ELEMENTS is cut after its first MAX_ELEMENTS elements (in
# document order, where an article's text comes first) rather than stalling a pass.
MAX_ELEMENTS = 10_000

# Headings of "read also" boxes: trafilatura drops the teaser list but can keep its
# heading as a line of its own. Compared case-insensitively, without trailing ":".
TEASER_LABELS = frozenset(
    {
        "à lire aussi", "a lire aussi", "lire aussi", "à lire également", "voir aussi",
        "sur le même sujet", "read also", "read more", "see also", "related",
        "related articles", "related stories", "more on this story", "lees ook", "lees meer",
        "meer over dit onderwerp", "اقرأ أيضا", "اقرأ أيضاً", "إقرأ أيضا", "شاهد أيضا",
    }
)  # fmt: skip

# Reading-time badges of WordPress themes and plugins ("Reading Time: 3 minutes",
# "(3 minutes read)", "Temps de lecture : 2 min", "Leestijd: 4 minuten"): a line of its own.
_READING_TIME = re.compile(
    r"^\(?\s*(reading time|read time|temps de lecture|leestijd)\s*:?\s*\d+\s*\w*\s*\)?$"
    r"|^\(?\s*\d+\s*(minutes?|mins?|min)\.?\s*(read|de lecture|leestijd|lezen)\s*\)?$",
    re.IGNORECASE,
)

# An inline "read also" link written as a paragraph of the body: "Lire aussi : <headline>",
# "À LIRE : ...", "Lees ook: ...", "Read more: ...". Only short lines: a real sentence may
# begin with these words, a 30-word headline never does.
_READ_ALSO_LINK = re.compile(
    r"^(?:(?:à |a )?lire(?: aussi| également)?|voir aussi|lees (?:ook|meer)|zie ook"
    r"|read (?:also|more)|see also|related|more)\s*:",
    re.IGNORECASE,
)

# A line of tags under the text ("Trefwoorden: Marokko-Israël Marokko", "Mots-clés : ...").
_TAG_LINE = re.compile(
    r"^(?:tags?|trefwoorden|tagged|mots[- ]cl[ée]s|sujets associ[ée]s|th[èe]mes|topics|keywords)"
    r"\s*:",
    re.IGNORECASE,
)
MAX_TAG_LINE_WORDS = 15

# Cookie-consent dialogs and newsletter boxes, by the id or class that consent managers
# and themes give them: trafilatura keeps some of them (tarteaucitron's banner; a sidebar
# "Nieuwsbrief" box on the bladna sample site) as a paragraph of text.
CONSENT_MARKERS = (
    "cookie", "consent", "tarteaucitron", "didomi", "onetrust", "gdpr",
    "newsletter", "nieuwsbrief", "infolettre",
)  # fmt: skip
# Longer elements stay: a page wrapper may carry a "cookies-accepted" class.
MAX_CONSENT_CHARS = 1500
_ID_AND_CLASS_VALUES = XPath("//body//@id | //body//@class", smart_strings=False)
_ID_AND_CLASS_ATTRIBUTES = XPath("//body//@id | //body//@class")
_CONSENT_MARKER = re.compile("|".join(CONSENT_MARKERS), re.IGNORECASE)
# The same markers in lowered ASCII text: case-insensitive matching costs ~6 times more.
_FOLDED_CONSENT_MARKER = re.compile("|".join(CONSENT_MARKERS))
# The elements whose id or class is one of the $named values ("\n"-separated, and
# around): in document order, an outer dialog before its inner parts.
_NAMED_ELEMENTS = XPath(
    "//body/descendant-or-self::*[contains($named, concat('\n', @id, '\n'))"
    " or contains($named, concat('\n', @class, '\n'))]"
)

# A lead paragraph (chapô) by the class that layouts give it; no links inside. Not
# "standfirst": on the real (English) pages the true text leaves standfirsts out, and
# adding them cost 0.0002 of mean F1; nor "lead" or "intro", found in script-laden and
# teaser elements.
LEAD_MARKERS = ("chapo", "chapeau", "article__desc", "article-lead")
_LEAD_CANDIDATES = XPath(  # the cheap class test first: `.//a` searches a whole subtree
    "//body//*[@class]["
    + " or ".join(f"contains(@class, '{marker}')" for marker in LEAD_MARKERS)
    + "][self::p or self::div or self::h2][not(.//a) and not(.//script)]"
)
MIN_LEAD_WORDS = 8
MAX_LEAD_WORDS = 120

# trafilatura writes list items as "- item".
_LIST_BULLET = re.compile(r"^\s*[-•*]\s+")
# The text of list items that hold one link and nothing else.
_LINK_ITEMS = XPath(
    "//li[count(.//a[@href]) = 1][normalize-space(.) = normalize-space(.//a[@href])]"
)


def parse_html(html: bytes | str, encoding: str | None = None) -> HtmlElement | None:
    """An lxml tree of the page without its cookie banner, or None for input that is
    empty, huge or not HTML."""
    text = page_source(html, encoding)
    return None if text is None else parse_source(text)


def parse_source(text: str) -> HtmlElement | None:
    """`parse_html` for a page already decoded."""
    try:
        tree = load_html(text)
    except (ParserError, ValueError, TypeError):
        return None
    if not isinstance(tree, HtmlElement):
        return None
    drop_consent_dialogs(tree)
    return tree


def trim_tree(tree: HtmlElement, limit: int = MAX_ELEMENTS) -> int:
    """Cut the tree after its first `limit` elements; returns how many it had (0 if fewer).

    Everything after the last kept element goes: its children, its following siblings,
    and those of each of its ancestors.
    """
    count = int(tree.xpath("count(//*)"))
    if count <= limit:
        return 0
    last = tree.xpath(f"(//*)[{limit}]")[0]
    for element in (last, *last.iterancestors()):
        parent = element.getparent()
        if parent is not None:
            del parent[parent.index(element) + 1 :]
    del last[:]  # its descendants come after it in document order
    return count


def drop_consent_dialogs(tree: HtmlElement) -> None:
    """Remove cookie-consent dialogs from our own tree, before anything reads it.

    Done here rather than with trafilatura's `prune_xpath`: a case-insensitive XPath over
    every id and class added ~20 ms a page, two thirds of trafilatura's own. Reading the
    values as strings and asking only for the elements of the few that match costs
    ~0.8 ms; visiting every element with an id or a class cost ~1.7 ms (lxml builds a
    Python proxy for each one).
    """
    global _named_cache
    values = _ID_AND_CLASS_VALUES(tree)
    assert isinstance(values, list)
    joined = "\n".join(values)
    _named_cache = (tree, joined)
    folded = joined.lower()
    if not any(marker in folded for marker in CONSENT_MARKERS):
        return
    # Only now ask for the elements, by the few values that name a marker: one XPath over
    # them returns the elements once each and in document order, so that an outer dialog
    # is judged (and dropped with its inner parts) before them. (Asking for every value as
    # a "smart" string that knows its element cost ~4 ms a page.) The values that name one
    # are found with one search of them all (no marker holds a line break), not one search
    # of each (~0.9 ms a page).
    ends = list(accumulate(len(value) + 1 for value in values))
    # In ASCII values, the lowered copy holds every character at the same place and the
    # markers match there exactly where they match the values case-insensitively (~0.8 ms
    # sooner on a page that names one). Beyond ASCII, lowering may change lengths ("İ"
    # becomes two characters): the values themselves are searched.
    matches = (
        _FOLDED_CONSENT_MARKER.finditer(folded)
        if joined.isascii()
        else _CONSENT_MARKER.finditer(joined)
    )
    named = sorted({values[bisect_right(ends, found.start())] for found in matches})
    if not named:
        return
    elements: list[HtmlElement]
    if joined.count("\n") == len(values) - 1:
        # No value holds a line break: each id and class is looked up in all the named
        # values at once (one test per attribute, not one per named value: ~1 ms a page).
        matches = _NAMED_ELEMENTS(tree, named="\n" + "\n".join(named) + "\n")
        assert isinstance(matches, list)
        elements = matches
    else:
        wanted = set(named)
        attributes = _ID_AND_CLASS_ATTRIBUTES(tree)
        assert isinstance(attributes, list)
        elements = list(dict.fromkeys(v.getparent() for v in attributes if v in wanted))
    for element in elements:
        if len(element.text_content()) < MAX_CONSENT_CHARS:
            element.drop_tree()


# The id and class values of the last tree parse_source read (one tree at a time per
# process), kept for `may_have_lead`.
_named_cache: tuple[HtmlElement, str] | None = None


def may_have_lead(tree: HtmlElement) -> bool:
    """Whether some class under the page's body names a lead marker: without one,
    `with_lead` finds no candidate. Searches the id and class values read for the consent
    dialogs (~10,000 characters), not the whole page source (~0.35 ms a page)."""
    if _named_cache is not None and _named_cache[0] is tree:
        joined = _named_cache[1]
    else:
        values = _ID_AND_CLASS_VALUES(tree)
        assert isinstance(values, list)
        joined = "\n".join(values)
    return any(marker in joined for marker in LEAD_MARKERS)


def clean_lines(text: str) -> list[str]:
    """Non-empty, stripped lines, without "read also" headings, reading-time badges and
    tag lines."""
    lines = (line.strip() for line in text.splitlines())
    return [
        line
        for line in lines
        if line
        and line.rstrip(" :").lower() not in TEASER_LABELS
        and not _READING_TIME.match(line)
        and not (_READ_ALSO_LINK.match(line) and count_words(line) <= 30)
        and not (_TAG_LINE.match(line) and count_words(line) <= MAX_TAG_LINE_WORDS)
    ]


def item_text(line: str) -> str:
    """A line as the page's element reads: without trafilatura's list bullet, one space
    between words (compared with `text_content()` of an element)."""
    return " ".join(_LIST_BULLET.sub("", line).split())


def with_lead(lines: list[str], tree: HtmlElement) -> list[str]:
    """The lines with the article's lead paragraph (chapô) first, when the page marks one
    up and trafilatura left it out.

    French layouts put the chapô in the header, beside the headline, outside the element
    that holds the body, and trafilatura then drops it. The lead must come before the
    text's first line in the page and hold no link (a teaser's summary does).
    """
    if not lines:
        return lines
    start = item_text(lines[0])[:40]
    text = " ".join(" ".join(lines).split())
    for candidate in _LEAD_CANDIDATES(tree):
        lead = " ".join(candidate.text_content().split())
        if not MIN_LEAD_WORDS <= count_words(lead) <= MAX_LEAD_WORDS or lead in text:
            continue
        if candidate.xpath("following::p[starts-with(normalize-space(.), $s)]", s=start):
            return [lead, *lines]
    return lines


def without_link_items(lines: list[str], tree: HtmlElement) -> list[str]:
    """The lines without list items that are nothing but a link: a list of related
    headlines that a theme puts inside the article body ("- <a>Other story</a>")."""
    bullets = [i for i, line in enumerate(lines) if _LIST_BULLET.match(line)]
    if not bullets:
        return lines
    items = _LINK_ITEMS(tree)
    assert isinstance(items, list)
    links = {" ".join(item.text_content().split()) for item in items}
    drop = {i for i in bullets if item_text(lines[i]) in links}
    return [line for i, line in enumerate(lines) if i not in drop]


def without_headline(lines: list[str], title: str | None) -> list[str]:
    """The lines without a first line that repeats the title: the headline is the title,
    not a paragraph of the text (trafilatura keeps the <h1> of an <article>)."""
    if lines and title and _folded(lines[0]) == _folded(title):
        return lines[1:]
    return lines


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
