"""trafilatura's XPath expressions, cheaper to evaluate, selecting exactly what they did.

trafilatura finds boilerplate, the article body and the author with XPath expressions that
test id and class values with EXSLT regular expressions (``re:test(@class, '...')``). lxml
runs each ``re:test`` by calling back into Python, for every element an expression visits,
also for elements that have no such attribute at all, and hands it each value as a "smart"
string that knows its element. On news pages that is about a tenth of an extraction.

`speed_up` recompiles every module-level expression of trafilatura once per process:

- a ``re:test(ARG, 'R')`` is guarded by a test libxml2 runs in C, so that Python is called
  only when the guard holds: that ARG contains one of the few literal strings any match of
  R must contain (worked out from R's parse; at most MAX_LITERALS of them: many
  ``contains`` calls cost more than the callback they spare), else that ARG exists at all
  (when R cannot match an empty string);
- values reach ``re:test`` as plain strings (``smart_strings=False``): these expressions
  select elements, never strings.

Each guard is a necessary condition of the test it guards, and ``contains`` reads the same
value ``re:test`` reads (the first node of ARG), so every expression selects the same
elements in the same order.

- a step that names its elements in a predicate, ``.//*[self::div or self::p][P]``, becomes
  the union ``(.//div[P] | .//p[P])``: libxml2 picks elements by name while it walks the
  tree, where each ``self::`` test is a step of its own, evaluated for every element (about
  a third of such an expression's time). A union is returned in document order, and no
  element has two names, so it selects the same elements in the same order. Only where
  that holds: the step stands alone or in a union or parentheses (``(...)[1]`` is fine),
  and none of its predicates counts positions (``.//*[...][1]`` is the first match among
  each element's children, which a union cannot say).

Two more costs of every page, in how trafilatura parses one (``load_html``):

- before parsing, it deletes the characters XML forbids with a regular expression over
  the whole page (~0.55 ms for 180 kB); nearly no page holds one, and a check that runs in
  C (the page's UTF-8 bytes searched for each control byte) says so in ~0.15 ms, the
  expression running only when it finds one;
- its parser asks Python which class each element gets (lxml.html's class lookup, ~0.4 ms
  a page): a lookup that lxml answers in C gives every element ``HtmlElement``; only
  lxml.html's form classes (``FormElement``, ``InputElement``, ...), which nothing in an
  extraction uses, are given up.

``tests/extract/test_speedups.py`` checks all this on every real page, expression by
expression, and that whole extractions come out identical. trafilatura's own lists are
updated in place (its modules share them); `plain` swaps the originals back in for a block,
for a bench that times bare trafilatura.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lxml.etree import ElementDefaultClassLookup, XPath
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HtmlProcessingInstruction,
)

REGEXP_NS = "http://exslt.org/regular-expressions"
MAX_LITERALS = 6

# re:test(@a, 'R') or re:test(@a|@b, 'R', 'flags'), as trafilatura writes them.
_RE_TEST = re.compile(
    r"re:test\(\s*(@[\w-]+(?:\s*\|\s*@[\w-]+)*)\s*,\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)"
)

# trafilatura's shared lists of expressions: (the list, its originals, their fast forms);
# and its single expressions: (module, name, original, fast form). Filled by speed_up.
_lists: list[tuple[list[XPath], list[XPath], list[XPath]]] = []
_singles: list[tuple[Any, str, XPath, XPath]] = []

# trafilatura.utils.INVALID_XML_CHARS as the check below knows it.
INVALID_XML_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]"
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# The C-level class lookup: what lxml.html's gives every element but its form elements.
_HTML_CLASSES = ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
)


def needed_literals(pattern: str, flags: str = "") -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains, or None if no such set
    is found (a case-insensitive pattern, a match that may be empty, an unknown construct).
    """
    if flags.strip("g"):  # "i": contains() is case-sensitive
        return None
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - no parser, or a pattern Python reads otherwise
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    found = _needed(list(parsed))
    if not found or any(not s or "'" in s for s in found):
        return None
    return frozenset(found)


def _needed(sequence: list[tuple[Any, Any]]) -> set[str] | None:
    """For a parsed sequence: a set of strings one of which every match contains."""
    from re._constants import (
        BRANCH,
        LITERAL,
        MAX_REPEAT,
        MIN_REPEAT,
        SUBPATTERN,
    )

    options: list[set[str]] = []
    run = ""
    for op, av in sequence:
        if op is LITERAL:
            run += chr(av)
            continue
        if run:
            options.append({run})
            run = ""
        found: set[str] | None = None
        if op is SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            if not add_flags & re.IGNORECASE:
                found = _needed(list(inner))
        elif op is BRANCH:
            branches = [_needed(list(branch)) for branch in av[1]]
            if all(branch is not None for branch in branches):
                found = set().union(*branches)  # type: ignore[arg-type]
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            found = _needed(list(av[2]))
        if found:
            options.append(found)
    if run:
        options.append({run})
    if not options:
        return None
    # The most selective set: its shortest string longest, then the fewest strings.
    return max(options, key=lambda s: (min(map(len, s)), -len(s)))


def guarded(path: str) -> str:
    """``path`` with each ``re:test`` behind a C-level necessary condition, where one is
    known (else unchanged)."""

    def guard(match: re.Match[str]) -> str:
        arg, pattern, flags = match.group(1), match.group(2), match.group(3) or ""
        literals = needed_literals(pattern, flags)
        if literals is not None and len(literals) <= MAX_LITERALS:
            test = " or ".join(f"contains({arg}, '{s}')" for s in sorted(literals))
            return f"(({test}) and {match.group(0)})"
        try:
            matches_empty = re.search(pattern, "", re.IGNORECASE if "i" in flags else 0)
        except re.error:
            return match.group(0)
        if matches_empty is None:
            return f"(({arg}) and {match.group(0)})"
        return match.group(0)

    return _RE_TEST.sub(guard, path)


# A step ``.//*[`` or ``//*[`` that starts an expression, a union's branch or a parenthesis.
_ANY_ELEMENT_STEP = re.compile(r"(?:^|(?<=[(|]))(\s*)(\.?//)\*\[")
_NAME_TESTS = re.compile(r"\s*self::[A-Za-z_][\w.-]*(?:\s+or\s+self::[A-Za-z_][\w.-]*)*\s*")
_NAMED = re.compile(r"self::([A-Za-z_][\w.-]*)")
# A predicate that may be a number, which XPath reads as a position: kept as it is.
_MAY_COUNT = re.compile(
    r"\[[\s(]*[\d.$-]|\b(?:position|last|count|number|sum|floor|ceiling|round|string-length)\("
)


def _bracket_end(text: str, start: int) -> int | None:
    """The index just past the ``]`` that closes the ``[`` at ``text[start]``."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _predicates_end(text: str, start: int) -> int:
    """The end of the predicates ``[...][...]`` that follow ``start``."""
    end = start
    while True:
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
        close = _bracket_end(text, i) if i < len(text) and text[i] == "[" else None
        if close is None:
            return end
        end = close


def named_unions(path: str) -> str:
    """``path`` with each ``.//*[self::a or self::b][P]`` that may be, as ``(.//a[P] |
    .//b[P])``: the same elements in the same order (see the module's notes)."""
    out: list[str] = []
    done = 0
    for step in _ANY_ELEMENT_STEP.finditer(path):
        if step.start() < done:
            continue
        first = step.end() - 1
        tests_end = _bracket_end(path, first)
        if tests_end is None or not _NAME_TESTS.fullmatch(path[first + 1 : tests_end - 1]):
            continue
        end = _predicates_end(path, tests_end)
        predicates, after = path[tests_end:end], path[end:].lstrip()
        if (after and after[0] not in "|)") or _MAY_COUNT.search(predicates):
            continue
        axis = step.group(2)
        names = _NAMED.findall(path[first + 1 : tests_end - 1])
        union = " | ".join(f"{axis}{name}{predicates}" for name in dict.fromkeys(names))
        out.append(f"{path[done : step.start()]}{step.group(1)}({union})")
        done = end
    return "".join(out) + path[done:]


def has_invalid_xml_chars(text: str) -> bool:
    """Whether ``text`` holds a character of INVALID_XML_PATTERN: control characters but
    tab and line breaks, U+FFFE, U+FFFF. (In UTF-8 a byte below 0x20 is always that
    character itself.)"""
    data = text.encode("utf-8", "surrogatepass")
    return any(byte in data for byte in _CONTROL_BYTES) or "\ufffe" in text or "\uffff" in text


class InvalidXMLChars:
    """trafilatura's INVALID_XML_CHARS (``repair_faulty_html`` calls its ``sub``): a text
    without such a character is returned as it is, after `has_invalid_xml_chars`."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def sub(self, repl: str, string: str, count: int = 0) -> str:
        if isinstance(string, str) and not has_invalid_xml_chars(string):
            return string
        return self.pattern.sub(repl, string, count)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)


# The parse's swaps: (module, attribute, original, fast form). Filled by speed_up.
_parse: list[tuple[Any, str, Any, Any]] = []


def fast_xpath(expression: XPath) -> XPath:
    path = named_unions(guarded(expression.path))
    return XPath(path, namespaces={"re": REGEXP_NS}, smart_strings=False)


def speed_up() -> None:
    """Recompile trafilatura's module-level XPath expressions (once per process)."""
    if _lists or _singles:
        return
    import trafilatura.baseline
    import trafilatura.core
    import trafilatura.external
    import trafilatura.htmlprocessing
    import trafilatura.main_extractor
    import trafilatura.metadata
    import trafilatura.settings
    import trafilatura.xpaths  # noqa: F401 - every module that holds expressions

    seen: dict[int, XPath] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("trafilatura"):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, list) and value and all(isinstance(x, XPath) for x in value):
                if all(id(shared) != id(value) for shared, _, _ in _lists):
                    _lists.append((value, list(value), [fast_xpath(x) for x in value]))
            elif isinstance(value, XPath):
                if id(value) not in seen:
                    seen[id(value)] = fast_xpath(value)
                _singles.append((module, attribute, value, seen[id(value)]))
    utils = sys.modules["trafilatura.utils"]
    invalid = getattr(utils, "INVALID_XML_CHARS", None)
    if isinstance(invalid, re.Pattern) and invalid.pattern == INVALID_XML_PATTERN:
        _parse.append((utils, "INVALID_XML_CHARS", invalid, InvalidXMLChars(invalid)))
    _use(fast=True)


def _use(*, fast: bool) -> None:
    for shared, originals, quick in _lists:
        shared[:] = quick if fast else originals  # the modules share the list itself
    for module, attribute, original, quick_one in (*_singles, *_parse):
        setattr(module, attribute, quick_one if fast else original)
    parser = getattr(sys.modules["trafilatura.utils"], "HTML_PARSER", None)
    if parser is not None:
        parser.set_element_class_lookup(_HTML_CLASSES if fast else HtmlElementClassLookup())


@contextmanager
def plain() -> Iterator[None]:
    """trafilatura's own expressions for the block (a bench's bare trafilatura)."""
    if not (_lists or _singles):
        yield
        return
    _use(fast=False)
    try:
        yield
    finally:
        _use(fast=True)
