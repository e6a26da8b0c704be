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
from functools import cached_property, lru_cache
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


# A word's names (under each of its forms) and the entity it begins with (see Gazetteer._word)
_Word = tuple[tuple[tuple[str, _Name], ...], str | None]
_WORDS = 200_000  # words remembered per gazetteer


@dataclass
class Gazetteer:
    entities: dict[str, Entity]
    countries: dict[str, str] = field(default_factory=dict)  # entity id -> its country's id
    _index: dict[str, list[_Name]] = field(default_factory=dict)
    _prefixes: dict[str, str] = field(default_factory=dict)  # "cyber" -> c_cyber
    _lengths: list[int] = field(default_factory=list)  # of the prefixes, longest first
    _words: dict[str, _Word | None] = field(default_factory=dict)  # see _word
    _grouped: dict[frozenset[str], dict[str, frozenset[str]]] = field(default_factory=dict)

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

    @cached_property
    def weights(self) -> dict[str, float]:
        """Entity id -> weight."""
        return {key: entity.weight for key, entity in self.entities.items()}

    @cached_property
    def kinds(self) -> dict[str, str]:
        """Entity id -> kind."""
        return {key: entity.kind for key, entity in self.entities.items()}

    @cached_property
    def systems(self) -> frozenset[str]:
        """The ids of the weapon systems."""
        return frozenset(key for key, kind in self.kinds.items() if kind == "system")

    def by_kind(self, ids: frozenset[str]) -> dict[str, frozenset[str]]:
        """``ids`` by their entity's kind; kept (a headline's entities come back often)."""
        found = self._grouped.get(ids)
        if found is None:
            groups: dict[str, set[str]] = {}
            for entity in ids:
                groups.setdefault(self.entities[entity].kind, set()).add(entity)
            found = {kind: frozenset(members) for kind, members in groups.items()}
            if len(self._grouped) >= _WORDS:
                self._grouped.clear()
            self._grouped[ids] = found
        return found

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

    def find_words(self, raw: list[str], low: list[str] | None = None) -> dict[str, int]:
        """Entity id -> mentions among the words of a text folded with its case kept
        (``low``: the words case-folded, when known already)."""
        if low is None:
            low = [w.casefold() for w in raw]
        words = self._words
        unseen = set(low).difference(words)  # words not met before
        if len(words) + len(unseen) > _WORDS:  # kept bounded
            words.clear()
            unseen = set(low)
        for word in unseen:
            words[word] = self._word(word)
        # Only the words a name or a prefix may start with are looked at; a name of several
        # words consumes them (``i`` moves past), so its inner words start nothing.
        found: dict[str, int] = {}
        skip = 0
        for i, word in enumerate(low):
            known = words[word]
            if known is None or i < skip:
                continue
            hit = self._match(raw, low, i, known[0])
            if hit is None:
                if known[1] is not None:
                    found[known[1]] = found.get(known[1], 0) + 1
                continue
            if not hit.entity.startswith("!"):  # an exclusion just consumes its words
                found[hit.entity] = found.get(hit.entity, 0) + 1
            skip = i + len(hit.words)
        return found

    def _word(self, word: str) -> _Word | None:
        """What a (case-folded) word may start: the names under each of its forms, and the
        entity it begins with; None when neither."""
        names = tuple((form, name) for form in variants(word) for name in self._index.get(form, ()))
        prefixed = self._prefixed(word)
        return (names, prefixed) if names or prefixed is not None else None

    def _prefixed(self, word: str) -> str | None:
        """The entity a word begins with ("cyberdefensie": c_cyber), if any."""
        for length in self._lengths:
            found = self._prefixes.get(word[:length])
            if found is not None and not found.startswith("!"):
                return found
        return None

    def _match(
        self, raw: list[str], low: list[str], i: int, names: tuple[tuple[str, _Name], ...]
    ) -> _Name | None:
        for form, name in names:
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
