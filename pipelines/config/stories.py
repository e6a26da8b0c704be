"""``[stories]``: how articles are grouped into stories, and how often a story's news goes out.

See docs/stories.md. Every key has a default; an unknown key or a bad value fails at load
with the key named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.config.checks import get_value, reject_unknown
from pipelines.errors import ConfigError

UPDATES = ("each-pass", "daily", "never")
_KEYS = {"window_days", "join_threshold", "firm_threshold", "updates", "entities"}
_ENTITY_KEYS = {"id", "kind", "names", "weight", "exclude"}
_KINDS = ("person", "system", "org", "place", "event", "country", "topic", "frame")


@dataclass(frozen=True)
class StoriesConfig:
    # A story takes new articles until this many days after its latest one: two events
    # with the same actors months apart are two stories.
    window_days: int = 30
    join_threshold: float = 4.0  # an article joins the best story scoring at least this
    # An article below its topic's threshold that scores at least this with a relevant
    # story is delivered inside it, as "also covered by".
    firm_threshold: float = 7.0
    updates: str = "each-pass"  # "each-pass" | "daily" | "never": later news of a story
    entities: tuple[dict[str, Any], ...] = ()  # added to the shipped gazetteer


def parse_stories(t: dict[str, Any], where: str) -> StoriesConfig:
    reject_unknown(t, _KEYS, where, "stories.")
    d = StoriesConfig()
    window = get_value(t, "window_days", int, where, "stories.window_days", d.window_days)
    if window < 1:
        raise ConfigError(where, "stories.window_days", f"must be >= 1, not {window}")
    join = float(
        get_value(
            t, "join_threshold", (int, float), where, "stories.join_threshold", d.join_threshold
        )
    )
    firm = float(
        get_value(
            t, "firm_threshold", (int, float), where, "stories.firm_threshold", d.firm_threshold
        )
    )
    if join <= 0:
        raise ConfigError(where, "stories.join_threshold", f"must be > 0, not {join}")
    if firm < join:
        raise ConfigError(
            where, "stories.firm_threshold", f"must be >= join_threshold ({join}), not {firm}"
        )
    updates = get_value(t, "updates", str, where, "stories.updates", d.updates)
    if updates not in UPDATES:
        allowed = ", ".join(repr(u) for u in UPDATES)
        raise ConfigError(where, "stories.updates", f"must be one of {allowed}, not {updates!r}")
    return StoriesConfig(
        window_days=window,
        join_threshold=join,
        firm_threshold=firm,
        updates=updates,
        entities=_entities(t.get("entities", []), where),
    )


def _entities(raw: Any, where: str) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list):
        raise ConfigError(where, "stories.entities", "must be an array of [[stories.entities]]")
    found = []
    for n, spec in enumerate(raw):
        key = f"stories.entities[{n}]"
        if not isinstance(spec, dict):
            raise ConfigError(where, key, "must be a table with id and names")
        reject_unknown(spec, _ENTITY_KEYS, where, f"{key}.")
        ident = get_value(spec, "id", str, where, f"{key}.id", "")
        if not ident:
            raise ConfigError(where, f"{key}.id", "is required (a name such as 'gantz')")
        names = spec.get("names", [])
        if not isinstance(names, list) or not all(isinstance(x, str) and x for x in names):
            raise ConfigError(where, f"{key}.names", "must be a list of non-empty strings")
        kind = spec.get("kind")
        if kind is not None and kind not in _KINDS:
            raise ConfigError(where, f"{key}.kind", f"must be one of {', '.join(_KINDS)}")
        weight = get_value(spec, "weight", (int, float), where, f"{key}.weight", None)
        if weight is not None and weight < 0:
            raise ConfigError(where, f"{key}.weight", f"must be >= 0, not {weight}")
        exclude = spec.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
            raise ConfigError(where, f"{key}.exclude", "must be a list of strings")
        found.append(dict(spec))
    return tuple(found)
