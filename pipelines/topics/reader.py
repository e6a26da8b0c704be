"""Reading one ``[[topics]]`` table: every key checked, every term compiled.

Errors name the file, the dotted key (``topics[1].groups.israel[3]``) and the topic; the
rules themselves are described in ``pipelines.topics.matching`` and docs/topics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.addresses import address_domain
from pipelines.errors import ConfigError
from pipelines.topics.reactions import POLICIES, VERB, VOICE
from pipelines.topics.rules import (
    ANY_LANGUAGE,
    Term,
    TermIndex,
    parse_langs,
    parse_term,
)
from pipelines.topics.scoring import CORE, EXCLUDE, GROUP, WEAKEST, FieldWeights, Veto

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
    "labels",
    "reactions",
    "reaction",
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
    # voices and verbs of reactions, scanned only in the rare articles that match
    reaction_index: TermIndex = field(
        default_factory=lambda: TermIndex([], []), compare=False, repr=False
    )
    labels: dict[str, str] = field(default_factory=dict)  # group -> label in a match's "why"
    table: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as written
    reactions: str = "context"  # what a reaction match does: "context", "alert", "ignore"


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
        reaction = self._term_lists("reaction", required=False, names=("voices", "verbs"))
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
            reaction_index=_compile_reaction(reaction),
            labels=self._labels(groups),
            reactions=self._policy(),
            table=self.table,
        )

    def _labels(self, groups: dict[str, list[Term]]) -> dict[str, str]:
        """``[topics.labels]``: how each group is named in a match's one-line reason."""
        table = self.table.get("labels", {})
        if not isinstance(table, dict):
            raise self.error(".labels", f"expected a table, got {_kind(table)}")
        for name, label in table.items():
            if name not in groups:
                raise self.error(
                    f".labels.{name}", f"not a group; expected one of {', '.join(groups)}"
                )
            if not isinstance(label, str) or not label.strip():
                raise self.error(f".labels.{name}", f"expected a non-empty string, got {label!r}")
        return {g: str(table.get(g, g)).strip() for g in groups}

    def _policy(self) -> str:
        value = self.table.get("reactions", "context")
        if value not in POLICIES:
            expected = ", ".join(f'"{p}"' for p in POLICIES)
            raise self.error(".reactions", f"expected one of {expected}, got {value!r}")
        return str(value)

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
            against = rule.get("against", CORE)
            if against not in groups and against not in (CORE, WEAKEST):
                raise self.error(
                    f"{where}.against",
                    f"{against!r} is not a group; expected {CORE!r}, {WEAKEST!r} or one of "
                    f"{', '.join(groups)}",
                )
            factor = self._number(
                "factor", default=1.0, minimum=0.0, strict=True, table=rule, prefix=where
            )
            vetoes[name] = Veto(None if against == CORE else against, factor)
        return vetoes

    def _term_lists(
        self, key: str, *, required: bool, names: Sequence[str] = ()
    ) -> dict[str, list[Term]]:
        """Check a table of named term lists and parse each term (errors name the term).

        A list is either a list of terms, for every language, or a table of such lists
        by language (``{ any = [...], en = [...], fr = [...] }``): the terms under a
        language match only in text of that language.
        """
        table = self.table.get(key, {})
        if not isinstance(table, dict):
            raise self.error(f".{key}", f"expected a table of term lists, got {_kind(table)}")
        if required and not table:
            raise self.error(f".{key}", "at least one group of terms is required")
        parsed: dict[str, list[Term]] = {}
        for name, terms in table.items():
            where = f".{key}.{name}"
            if names and name not in names:
                raise self.error(where, f"unknown list; expected {', '.join(names)}")
            by_lang = terms if isinstance(terms, dict) else {ANY_LANGUAGE: terms}
            parsed[name] = []
            for lang, listed in by_lang.items():
                at = where if by_lang is not terms else f"{where}.{lang}"
                langs = self._langs(at, "any" if lang == ANY_LANGUAGE else lang)
                if not isinstance(listed, list) or not listed:
                    raise self.error(at, f"expected a non-empty list of terms, got {listed!r}")
                parsed[name] += [self._term(f"{at}[{n}]", t, langs) for n, t in enumerate(listed)]
        return parsed

    def _langs(self, where: str, lang: str) -> frozenset[str] | None:
        if lang == "any":
            return None
        try:
            return parse_langs(lang)
        except ValueError as exc:
            raise self.error(where, f"{exc} (or any)") from None

    def _term(self, key: str, raw: object, langs: frozenset[str] | None = None) -> Term:
        if not isinstance(raw, str):
            raise self.error(key, f"expected a string, got {_kind(raw)}")
        try:
            return parse_term(raw, langs)
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


def _compile_reaction(lists: dict[str, list[Term]]) -> TermIndex:
    """The voices and verbs of ``[topics.reaction]``, labelled for ``topic_reactions``."""
    named = {"voices": VOICE, "verbs": VERB}
    terms: dict[object, Term] = {}
    labels: dict[object, set[str]] = {}
    for name, parsed in lists.items():
        for term in parsed:
            terms.setdefault(term.key, term)
            labels.setdefault(term.key, set()).add(named[name])
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
