"""Topics: which articles an analyst wants to hear about, and why each one matched.

A topic is data, written in ``newswatch.toml`` (the built-in default lives in
``default_topic.toml`` in the same shape)::

    [[topics]]
    name = "morocco-israel-defence"      # stored with each match; unique
    title = "Morocco–Israel defence"     # human label for email subjects (default: name)
    recipients = []                      # empty: the global [alerts] to
    min_score = 10.0                     # evidence needed (default 0)
    min_group_score = 3.0                # evidence needed from each group (default 0)
    proximity = "paragraph"              # or a number of words
    term_cap = 3.0                       # most points one term can add (default 3)

    [topics.groups]                      # ALL groups must match; ANY term within a group
    morocco = ["morocco", "moroccan*", "FAR", "forces armées royales"]
    israel = ["israel", "israeli", "IDF", "Elbit"]
    defence = ["defence", "military", "drone*", "air defence", "Elbit"]

    [topics.exclude]                     # near-miss vocabularies that veto a weak match
    tourism = ["tourist*", "hotel*"]
    war = ["gaza*", "ceasefire"]

    [topics.vetoes]                      # optional: what an exclude list competes with
    war = { against = "defence", factor = 1.4 }

    [topics.weights]                     # points per occurrence, by where it is
    title = 3.0
    lead = 2.0                           # the first 50 words of the text
    body = 1.0

How an article is judged (term syntax is in ``topic_rules``):

1. Every occurrence of a term earns the weight of its field. A term listed in two groups
   (``Elbit`` is Israeli *and* defence) counts for both.
2. An occurrence counts only when every group has a term near it: in the same paragraph
   or, with ``proximity = N``, within N words. Two countries named in different parts of
   a long article are not evidence that they cooperate. The title states what the whole
   article is about, so its terms are near every paragraph; the paragraphs that start in
   the lead (the first 50 words, often a dateline and a first sentence) count as one.
3. The score is the sum of counted points, each term capped at ``term_cap`` so one word
   repeated ten times cannot carry an article. It must reach ``min_score``, and each
   group's share must reach ``min_group_score``: a country named once in the body earns
   1 point, which is a passing mention, not a subject.
4. Each exclude list is scored over the whole article the same way. When one scores more
   than the weakest group, the article is about that other thing (a tourism story that
   says "military" once) and does not match. A list named in ``[topics.vetoes]`` competes
   with the group given as ``against`` instead, and must score more than ``factor``
   times it: war coverage is often the backdrop of a defence story, and drops it only
   when the war outweighs the defence evidence clearly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pipelines.addresses import address_domain
from pipelines.errors import ConfigError
from pipelines.models import Article, Match
from pipelines.topics.rules import Term, TermIndex, parse_term, read_document
from pipelines.topics.scoring import EXCLUDE, GROUP, FieldWeights, Veto, judge

__all__ = ["FieldWeights", "Topic", "Veto", "default_topics", "load_topics", "match_topics"]

DEFAULT_TOPIC_FILE = "default_topic.toml"
_KEYS = (
    "name",
    "title",
    "recipients",
    "min_score",
    "min_group_score",
    "proximity",
    "term_cap",
    "groups",
    "exclude",
    "vetoes",
    "weights",
)


@dataclass(frozen=True)
class Topic:
    """A validated topic with its terms compiled, ready for ``match_topics``."""

    name: str
    title: str
    recipients: list[str]  # empty: send to the global [alerts] to
    min_score: float
    min_group_score: float
    proximity: Literal["paragraph"] | int
    term_cap: float
    weights: FieldWeights
    groups: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    vetoes: dict[str, Veto] = field(default_factory=dict)
    index: TermIndex = field(default_factory=lambda: TermIndex([], []), compare=False, repr=False)


def match_topics(article: Article, topics: Sequence[Topic]) -> list[Match]:
    """Return a Match for each topic the article matched, in the order of ``topics``.

    The article is folded and cut into words once and shared by all topics.
    """
    if not topics:
        return []
    doc = read_document(article.title or "", article.text)
    judged = (judge(doc, topic.index.scan(doc), topic) for topic in topics)
    return [match for match in judged if match is not None]


def default_topics() -> list[Topic]:
    """The built-in topic, used when ``newswatch.toml`` declares no ``[[topics]]``."""
    return list(_load_default())


@lru_cache(maxsize=1)
def _load_default() -> tuple[Topic, ...]:
    return tuple(load_topics(_default_tables(), path=f"pipelines/{DEFAULT_TOPIC_FILE}"))


@lru_cache(maxsize=1)
def _default_tables() -> list[dict[str, Any]]:
    text = resources.files("pipelines.topics").joinpath(DEFAULT_TOPIC_FILE).read_text("utf-8")
    tables: list[dict[str, Any]] = tomllib.loads(text).get("topics", [])
    return tables


def _with_default_rules(table: object) -> object:
    """A [[topics]] table without ``groups`` borrows the built-in topic's rules.

    So ``name``, ``title`` or ``recipients`` alone give a topic of one's own (its name in
    the dataset, its own recipients) that matches like the built-in one.
    """
    if not isinstance(table, dict) or "groups" in table:
        return table
    rules = {k: v for k, v in _default_tables()[0].items() if k not in ("name", "title")}
    return {**rules, **table}


def load_topics(raw: list[dict[str, Any]], *, path: str) -> list[Topic]:
    """Validate the ``[[topics]]`` tables parsed from TOML and compile their terms.

    Every problem raises ConfigError naming the file, the dotted key (``topics[1].groups.
    israel[3]``) and the topic, so a typo in one term is found without guessing.
    """
    if not isinstance(raw, list):
        raise ConfigError(path, "topics", "expected a list of [[topics]] tables")
    topics: list[Topic] = []
    for number, table in enumerate(raw):
        topic = _Reader(path, f"topics[{number}]", _with_default_rules(table)).topic()
        if any(t.name == topic.name for t in topics):
            raise ConfigError(
                path, f"topics[{number}].name", f"duplicate topic name {topic.name!r}"
            )
        topics.append(topic)
    return topics


class _Reader:
    """Reads one [[topics]] table; every error names the key and, once known, the topic."""

    def __init__(self, path: str, key: str, table: object) -> None:
        self.path, self.key, self.name = path, key, ""
        if not isinstance(table, dict):
            raise self.error("", f"expected a table, got {_kind(table)}")
        self.table: dict[str, Any] = table

    def error(self, key: str, problem: str) -> ConfigError:
        where = f" (topic {self.name!r})" if self.name else ""
        return ConfigError(self.path, f"{self.key}{key}", f"{problem}{where}")

    def topic(self) -> Topic:
        self.name = self._name()
        unknown = sorted(set(self.table) - set(_KEYS))
        if unknown:
            raise self.error(f".{unknown[0]}", f"unknown key; expected one of {', '.join(_KEYS)}")
        groups = self._term_lists("groups", required=True)
        excludes = self._term_lists("exclude", required=False)
        return Topic(
            name=self.name,
            title=self._string("title", default=self.name),
            recipients=self._recipients(),
            min_score=self._number("min_score", default=0.0, minimum=0.0),
            min_group_score=self._number("min_group_score", default=0.0, minimum=0.0),
            proximity=self._proximity(),
            term_cap=self._number("term_cap", default=3.0, minimum=0.0, strict=True),
            weights=self._weights(),
            groups=tuple(groups),
            exclude=tuple(excludes),
            vetoes=self._vetoes(groups, excludes),
            index=_compile(groups, excludes),
        )

    def _name(self) -> str:
        name = self.table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error(".name", "required: a non-empty string naming the topic")
        return name.strip()

    def _string(self, key: str, *, default: str) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f".{key}", f"expected a non-empty string, got {_kind(value)}")
        return value.strip()

    def _recipients(self) -> list[str]:
        value = self.table.get("recipients", [])
        if not isinstance(value, list):
            raise self.error(".recipients", f"expected a list of addresses, got {_kind(value)}")
        for number, address in enumerate(value):
            if not isinstance(address, str) or address_domain(address.strip()) is None:
                raise self.error(f".recipients[{number}]", f"not an email address: {address!r}")
        return [a.strip() for a in value]

    def _number(
        self,
        key: str,
        *,
        default: float,
        minimum: float,
        strict: bool = False,
        table: dict[str, Any] | None = None,
        prefix: str = "",
    ) -> float:
        value = (self.table if table is None else table).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{prefix}.{key}", f"expected a number, got {_kind(value)}")
        if value < minimum or (strict and value == minimum):
            bound = "greater than" if strict else "at least"
            raise self.error(f"{prefix}.{key}", f"must be {bound} {minimum:g}, got {value!r}")
        return float(value)

    def _proximity(self) -> Literal["paragraph"] | int:
        value = self.table.get("proximity", "paragraph")
        if value == "paragraph":
            return "paragraph"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise self.error(
            ".proximity", f'expected "paragraph" or a number of words >= 1, got {value!r}'
        )

    def _weights(self) -> FieldWeights:
        table = self.table.get("weights", {})
        if not isinstance(table, dict):
            raise self.error(".weights", f"expected a table, got {_kind(table)}")
        defaults = FieldWeights()
        unknown = sorted(set(table) - {"title", "lead", "body"})
        if unknown:
            raise self.error(f".weights.{unknown[0]}", "unknown field; expected title, lead, body")
        return FieldWeights(
            *(
                self._number(
                    f, default=getattr(defaults, f), minimum=0.0, table=table, prefix=".weights"
                )
                for f in ("title", "lead", "body")
            )
        )

    def _vetoes(
        self, groups: dict[str, list[Term]], excludes: dict[str, list[Term]]
    ) -> dict[str, Veto]:
        """``[topics.vetoes]``: per exclude list, the group it competes with and the factor."""
        table = self.table.get("vetoes", {})
        if not isinstance(table, dict):
            raise self.error(".vetoes", f"expected a table, got {_kind(table)}")
        vetoes: dict[str, Veto] = {}
        for name, rule in table.items():
            where = f".vetoes.{name}"
            if name not in excludes:
                known = ", ".join(excludes) or "none"
                raise self.error(where, f"not an exclude list; the exclude lists are: {known}")
            if not isinstance(rule, dict):
                raise self.error(where, f"expected a table {{against, factor}}, got {_kind(rule)}")
            unknown = sorted(set(rule) - {"against", "factor"})
            if unknown:
                raise self.error(f"{where}.{unknown[0]}", "unknown key; expected against, factor")
            against = rule.get("against")
            if against is not None and against not in groups:
                raise self.error(
                    f"{where}.against",
                    f"{against!r} is not a group; expected one of {', '.join(groups)}",
                )
            factor = self._number(
                "factor", default=1.0, minimum=0.0, strict=True, table=rule, prefix=where
            )
            vetoes[name] = Veto(against, factor)
        return vetoes

    def _term_lists(self, key: str, *, required: bool) -> dict[str, list[Term]]:
        """Check a table of named term lists and parse each term (errors name the term)."""
        table = self.table.get(key, {})
        if not isinstance(table, dict):
            raise self.error(f".{key}", f"expected a table of term lists, got {_kind(table)}")
        if required and not table:
            raise self.error(f".{key}", "at least one group of terms is required")
        parsed: dict[str, list[Term]] = {}
        for name, terms in table.items():
            where = f".{key}.{name}"
            if not isinstance(terms, list) or not terms:
                raise self.error(where, f"expected a non-empty list of terms, got {terms!r}")
            parsed[name] = [self._term(f"{where}[{n}]", t) for n, t in enumerate(terms)]
        return parsed

    def _term(self, key: str, raw: object) -> Term:
        if not isinstance(raw, str):
            raise self.error(key, f"expected a string, got {_kind(raw)}")
        try:
            return parse_term(raw)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None


def _compile(groups: dict[str, list[Term]], excludes: dict[str, list[Term]]) -> TermIndex:
    """Merge every term into one index; a term listed in several places carries all labels."""
    terms: dict[object, Term] = {}
    labels: dict[object, set[str]] = {}
    for prefix, lists in ((GROUP, groups), (EXCLUDE, excludes)):
        for name, parsed in lists.items():
            for term in parsed:
                terms.setdefault(term.key, term)
                labels.setdefault(term.key, set()).add(prefix + name)
    return TermIndex(list(terms.values()), [labels[k] for k in terms])


def _kind(value: object) -> str:
    """Name a value's type the way TOML users know it."""
    names = {
        bool: "a boolean",
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)
