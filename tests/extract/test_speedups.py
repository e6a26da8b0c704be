"""trafilatura's XPath expressions as newswatch evaluates them (pipelines/extract/speedups.py)
select exactly what trafilatura's own select: expression by expression on every real page
and page fixture, and whole extractions alike; its parse's two shortcuts (the check for
characters XML forbids, the class lookup in C) change nothing either."""

from __future__ import annotations

import gzip
import pickle
import re
from pathlib import Path

import pytest
import trafilatura.utils
import trafilatura.xpaths
from extract_pages import REAL_PAGES
from lxml.etree import XPath
from lxml.html import FormElement, HtmlElement

from pipelines.extract import extract_page
from pipelines.extract.cleanup import parse_html
from pipelines.extract.speedups import (
    INVALID_XML_PATTERN,
    MAX_LITERALS,
    REGEXP_NS,
    InvalidXMLChars,
    fast_xpath,
    guarded,
    has_invalid_xml_chars,
    named_unions,
    needed_literals,
    plain,
)
from pipelines.models import PageHints

_RE_TEST = re.compile(r"re:test\([^,]+,\s*'([^']*)'(?:\s*,\s*'([^']*)')?\)")
FIXTURES = Path(__file__).resolve().parent.parent / "data" / "pages" / "fixtures"


def _pages() -> list[tuple[str, bytes]]:
    real = [(p.name, gzip.decompress(p.read_bytes())) for p in sorted(REAL_PAGES.glob("*.gz"))]
    return real + [(p.name, p.read_bytes()) for p in sorted(FIXTURES.glob("*.html"))]


PAGES = _pages()


def _expressions() -> list[tuple[str, XPath]]:
    found = []
    with plain():  # trafilatura's own, even though pipelines.extract sped them up
        for name, value in vars(trafilatura.xpaths).items():
            if isinstance(value, list) and value and all(isinstance(x, XPath) for x in value):
                found += [(f"{name}[{i}]", x) for i, x in enumerate(value)]
    return found


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("author|writer", {"author", "writer"}),
        ("[Aa]uthor|screenname", {"uthor", "screenname"}),
        ("^(?:comol|disqus_thread)", {"comol", "disqus_thread"}),
        ("author-?name|AuthorName", {"author", "AuthorName"}),  # "-" is optional
        ("(^|\\s)bottom|bottom(\\s|$)", {"bottom"}),
        ("^[Cc]omment(?!ary)|(?:article|post)-comments", {"omment", "-comments"}),
        ("mvp-post-add-(?:box|wrap)", {"mvp-post-add-"}),
        ("x+yz", {"yz"}),
    ],
)
def test_the_literals_every_match_contains(pattern: str, literals: set[str]) -> None:
    assert needed_literals(pattern) == literals


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        ("fulltext", "i"),  # contains() cannot ignore case
        ("(?i)author", ""),
        ("a?b?", ""),  # may match an empty string
        ("[ab]+", ""),  # no literal at all
        ("author|.", ""),  # one branch without a literal
        ("it's", ""),  # a quote cannot go into an XPath literal
    ],
)
def test_no_literals_when_none_is_certain(pattern: str, flags: str) -> None:
    assert needed_literals(pattern, flags) is None


def test_a_test_without_literals_is_guarded_by_the_attribute_when_it_cannot_match_empty() -> None:
    assert guarded("//*[re:test(@class, 'fulltext', 'i')]") == (
        "//*[((@class) and re:test(@class, 'fulltext', 'i'))]"
    )
    assert guarded("//*[re:test(@id, 'a?')]") == "//*[re:test(@id, 'a?')]"
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
    many = "|".join(words[: MAX_LITERALS + 1])
    assert guarded(f"//*[re:test(@id|@class, '{many}')]") == (
        f"//*[((@id|@class) and re:test(@id|@class, '{many}'))]"
    )


def test_every_guard_is_true_of_every_value_its_test_accepts() -> None:
    """The guard is a necessary condition: over every id and class value of the pages,
    a value the regular expression matches contains one of its literals."""
    values = set()
    for _, html in PAGES:
        tree = parse_html(html)
        assert tree is not None
        values.update(str(v) for v in tree.xpath("//@id | //@class"))
    tests = {
        (m.group(1), m.group(2) or "")
        for _, expression in _expressions()
        for m in _RE_TEST.finditer(expression.path)
    }
    checked = 0
    for pattern, flags in tests:
        literals = needed_literals(pattern, flags)
        if literals is None:
            continue
        for value in values:
            if re.search(pattern, value):
                checked += 1
                assert any(s in value for s in literals), (pattern, value)
    assert checked > 100


@pytest.mark.parametrize(
    ("path", "union"),
    [
        (".//*[self::div or self::p][@a]", "(.//div[@a] | .//p[@a])"),
        ("(.//*[self::a or self::b][@x])[1]", "((.//a[@x] | .//b[@x]))[1]"),
        ("//*[self::a or self::b][@x]|//author", "(//a[@x] | //b[@x])|//author"),
        ("not(.//*[self::h1 or self::h2])", "not((.//h1 | .//h2))"),
        ("\n  .//*[self::div][@c='x]y'][not(.//h1)]", "\n  (.//div[@c='x]y'][not(.//h1)])"),
    ],
)
def test_a_step_that_names_its_elements_becomes_a_union_of_named_steps(
    path: str, union: str
) -> None:
    assert named_unions(path) == union


@pytest.mark.parametrize(
    "path",
    [
        ".//*[self::div or self::p][@a][1]",  # the first match among each element's children
        ".//*[self::div or self::p][last()]",
        ".//*[self::div or self::p][string-length(@a)]",
        ".//*[self::a][@x]/b",  # a step in the middle of a path
        "//div[.//*[self::a or self::b]]",  # inside a predicate
        ".//*[@x][self::a]",  # the names are not the first predicate
        ".//*[self::a or @b]",  # not names alone
    ],
)
def test_a_step_a_union_could_change_is_left_as_it_is(path: str) -> None:
    assert named_unions(path) == path


def test_every_expression_selects_what_trafilaturas_own_selects() -> None:
    expressions = _expressions()
    assert len(expressions) > 30
    assert sum("re:test" in x.path for _, x in expressions) >= 20
    fast = [(name, x, fast_xpath(x)) for name, x in expressions]
    assert sum("self::" in x.path and "self::" not in q.path for _, x, q in fast) >= 10
    differ = []
    for page, html in PAGES:
        tree = parse_html(html)
        assert tree is not None
        body = tree.find("body")
        for context in (tree, body) if body is not None else (tree,):
            for name, own, quick in fast:
                if own(context) != quick(context):
                    differ.append((page, name, context.tag))
    assert differ == []


def test_a_guarded_expression_is_still_a_valid_xpath_with_the_same_namespaces() -> None:
    for _, expression in _expressions():
        XPath(guarded(expression.path), namespaces={"re": REGEXP_NS})


def test_whole_extractions_come_out_as_with_trafilaturas_own_expressions() -> None:
    hints = PageHints()
    for page, html in PAGES:
        url = f"https://example.org/{page}"
        fast = pickle.dumps(extract_page(html, url, hints=hints))
        with plain():
            own = pickle.dumps(extract_page(html, url, hints=hints))
        assert fast == own, page


def test_the_check_for_characters_xml_forbids_agrees_with_trafilaturas_expression() -> None:
    with plain():
        pattern = trafilatura.utils.INVALID_XML_CHARS
    assert isinstance(pattern, re.Pattern) and pattern.pattern == INVALID_XML_PATTERN
    # Every code point, surrogates included, a block at a time: a block the expression
    # finds nothing in must pass the check, and one it finds something in is read one by one.
    for start in range(0, 0x110000, 256):
        block = "".join(map(chr, range(start, start + 256)))
        if pattern.search(block) is None:
            assert not has_invalid_xml_chars(block), hex(start)
        else:
            for char in block:
                assert has_invalid_xml_chars(char) == bool(pattern.search(char)), hex(ord(char))


def test_a_page_with_forbidden_characters_is_repaired_as_trafilatura_repairs_it() -> None:
    with plain():
        pattern = trafilatura.utils.INVALID_XML_CHARS
    fast = InvalidXMLChars(pattern)
    name, html = PAGES[0]
    page = html.decode("utf-8", "replace")
    for bad in ("\x00", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff"):
        dirty = page[:500] + bad + page[500:1000] + bad + page[1000:]
        assert fast.sub("", dirty) == pattern.sub("", dirty) == page, repr(bad)
    assert fast.sub("", page) is page  # nothing to delete: the text itself, not a copy
    assert trafilatura.utils.INVALID_XML_CHARS.sub("", "a\x01b\x7fc") == "ab\x7fc"


def test_elements_of_the_shared_parser_are_html_elements_and_forms_are_given_up() -> None:
    html = b"<html><body><form><input name=q></form><p>Text</p></body></html>"
    tree = parse_html(html)
    assert tree is not None
    form = tree.find(".//form")
    assert type(form) is HtmlElement and form.text_content() == ""
    assert tree.find(".//p").text_content() == "Text"
    with plain():  # the class is looked up when lxml makes an element's Python object
        own = parse_html(html)
        assert own is not None and isinstance(own.find(".//form"), FormElement)
