"""The gazetteer: named entities with their spellings in every script, and finding them.

The shipped entities are ``gazetteer.toml`` beside this module; ``[stories] entities`` in
newswatch.toml adds entities or spellings. Each entity weighs what its kind weighs (a person
or a weapon system ties two articles together far more than a country both name), unless it
says otherwise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pipelines.stories.words import fold, fold_keep_case, tokens, variants

KIND_WEIGHTS: Mapping[str, float] = {
    "person": 2.0,
    "system": 2.5,
    "org": 1.5,
    "place": 1.5,
    "event": 2.0,
    "country": 0.3,
    "topic": 1.0,
    "frame": 0.5,
}
STRONG = 1.0  # entities at least this heavy are looked up in the story index


@dataclass(frozen=True)
class Entity:
    id: str
    kind: str
    weight: float
    names: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Name:
    entity: str  # the entity id, or "!<id>" for one of its exclusions
    words: tuple[str, ...]  # folded (case-sensitive names: case kept)
    exact: bool  # case-sensitive


@dataclass
class Gazetteer:
    entities: dict[str, Entity]
    countries: dict[str, str] = field(default_factory=dict)  # entity id -> its country's id
    _index: dict[str, list[_Name]] = field(default_factory=dict)
    _prefixes: dict[str, str] = field(default_factory=dict)  # "cyber" -> c_cyber
    _lengths: list[int] = field(default_factory=list)  # of the prefixes, longest first

    def __post_init__(self) -> None:
        for entity in self.entities.values():
            for raw in entity.names:
                self._add(entity.id, raw)
            for raw in entity.exclude:
                self._add("!" + entity.id, raw)
        for names in self._index.values():
            names.sort(key=lambda n: -len(n.words))  # the longest name first
        self._lengths = sorted({len(p) for p in self._prefixes}, reverse=True)

    def _add(self, entity: str, raw: str) -> None:
        if raw.endswith("*") and " " not in raw:  # a word's beginning: "cyber*"
            self._prefixes[fold(raw[:-1])] = entity
            return
        exact = raw.startswith("=")
        name = raw[1:] if exact else raw
        words = tuple(tokens(fold_keep_case(name) if exact else fold(name)))
        if words:
            key = words[0].casefold()
            self._index.setdefault(key, []).append(_Name(entity, words, exact))

    def weight(self, entity_id: str) -> float:
        found = self.entities.get(entity_id)
        return found.weight if found else 0.0

    def implied(self, found: dict[str, int]) -> dict[str, int]:
        """``found`` with the country of each entity it names (mentioned once, when the text
        does not name it): an article naming the IDF names Israel."""
        more = dict(found)
        for entity in found:
            country = self.countries.get(entity)
            if country is not None and country not in more:
                more[country] = 1
        return more

    def find(self, text: str) -> dict[str, int]:
        """Entity id -> mentions in ``text``."""
        return self.find_words(tokens(fold_keep_case(text)))

    def find_words(self, raw: list[str]) -> dict[str, int]:
        """Entity id -> mentions among the words of a text folded with its case kept."""
        low = [w.casefold() for w in raw]
        found: dict[str, int] = {}
        i = 0
        while i < len(low):
            hit = self._match(raw, low, i)
            if hit is None:
                prefixed = self._prefixed(low[i])
                if prefixed is not None:
                    found[prefixed] = found.get(prefixed, 0) + 1
                i += 1
                continue
            if not hit.entity.startswith("!"):  # an exclusion just consumes its words
                found[hit.entity] = found.get(hit.entity, 0) + 1
            i += len(hit.words)
        return found

    def _prefixed(self, word: str) -> str | None:
        """The entity a word begins with ("cyberdefensie": c_cyber), if any."""
        for length in self._lengths:
            found = self._prefixes.get(word[:length])
            if found is not None and not found.startswith("!"):
                return found
        return None

    def _match(self, raw: list[str], low: list[str], i: int) -> _Name | None:
        for form in variants(low[i]):
            for name in self._index.get(form, ()):
                n = len(name.words)
                if i + n > len(low):
                    continue
                if name.exact:
                    first = raw[i][len(raw[i]) - len(name.words[0]) :]
                    rest = raw[i + 1 : i + n]
                else:
                    first, rest = form, low[i + 1 : i + n]
                if first == name.words[0] and tuple(rest) == name.words[1:]:
                    return name
        return None


def _entity(key: str, spec: Mapping[str, Any], where: str) -> Entity:
    kind = str(spec.get("kind", "org"))
    if kind not in KIND_WEIGHTS:
        raise ValueError(f"{where}: entity {key!r}: unknown kind {kind!r}")
    names = spec.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{where}: entity {key!r}: names must be a list of strings")
    weight = spec.get("weight", KIND_WEIGHTS[kind])
    if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
        raise ValueError(f"{where}: entity {key!r}: weight must be a number >= 0")
    exclude = spec.get("exclude", [])
    return Entity(key, kind, float(weight), tuple(names), tuple(str(x) for x in exclude))


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    text = resources.files("pipelines.stories").joinpath("gazetteer.toml").read_text("utf-8")
    shipped: dict[str, Any] = tomllib.loads(text)
    return shipped


def build_gazetteer(extra: Sequence[Mapping[str, Any]] = ()) -> Gazetteer:
    """The shipped entities, plus ``extra`` ones (``[stories] entities``): an extra entity
    with a shipped id adds its names to it (and may change its kind or weight)."""
    shipped = _shipped()
    specs: dict[str, dict[str, Any]] = {k: dict(v) for k, v in shipped["entities"].items()}
    for spec in extra:
        key = str(spec["id"])
        merged = specs.setdefault(key, {"names": []})
        merged["names"] = [*merged.get("names", []), *spec.get("names", [])]
        for option in ("kind", "weight", "exclude"):
            if option in spec:
                merged[option] = spec[option]
    countries = {e: c for c, members in shipped.get("countries", {}).items() for e in members}
    return Gazetteer({k: _entity(k, v, "gazetteer") for k, v in specs.items()}, countries)


_CACHE: dict[tuple[Any, ...], Gazetteer] = {}


def gazetteer_for(extra: Iterable[Mapping[str, Any]] = ()) -> Gazetteer:
    """:func:`build_gazetteer`, built once per set of extra entities."""
    extras = tuple(extra)
    key = tuple(repr(sorted(e.items())) for e in extras)
    if key not in _CACHE:
        _CACHE[key] = build_gazetteer(extras)
    return _CACHE[key]
