"""``[[sources]]``: the news sites, declared as data and checked when loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipelines.config.checks import get_value, http_urls, reject_unknown, str_list
from pipelines.errors import ConfigError
from pipelines.hooks import check_hooks

_SOURCE_KEYS = {
    "name",
    "title",
    "lang",
    "feeds",
    "sitemaps",
    "start_urls",
    "article_pattern",
    "follow_depth",
    "enabled",
    "allowed_domains",
    "hooks",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class SourceConfig:
    """One news site, declared as data (Fundus-style) and checked on load."""

    name: str
    lang: str | None = None
    title: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    article_pattern: str | None = None
    follow_depth: int = 2  # pagination pages followed beyond each start page
    enabled: bool = True
    allowed_domains: tuple[str, ...] = ()
    hooks: str | None = None  # "package.module:Name": the source's quirks (pipelines/hooks.py)


def parse_sources(raw: Any, where: str) -> list[SourceConfig]:
    if not isinstance(raw, list):
        raise ConfigError(where, "sources", "must be an array of [[sources]] tables")
    out: list[SourceConfig] = []
    for i, t in enumerate(raw):
        out.append(_source(t, where, f"sources[{i}]"))
    names = [s.name for s in out]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(where, "sources", f"two sources are named {name!r}")
    return out


def _source(t: Any, where: str, key: str) -> SourceConfig:
    if not isinstance(t, dict):
        raise ConfigError(where, key, "must be a table")
    name = t.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            where, f"{key}.name", f"needs a short name like 'bladi_net', not {name!r}"
        )
    key = f"{key} ({name})"
    reject_unknown(t, _SOURCE_KEYS, where, key + ".")
    urls = {
        k: tuple(http_urls(t.get(k, []), where, f"{key}.{k}"))
        for k in ("feeds", "sitemaps", "start_urls")
    }
    if not any(urls.values()):
        raise ConfigError(where, key, "needs at least one of feeds, sitemaps, start_urls")
    pattern = get_value(t, "article_pattern", str, where, f"{key}.article_pattern", None)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(where, f"{key}.article_pattern", f"bad regex: {exc}") from None
    depth = get_value(
        t, "follow_depth", int, where, f"{key}.follow_depth", SourceConfig.follow_depth
    )
    if not 0 <= depth <= 50:
        raise ConfigError(where, f"{key}.follow_depth", "must be between 0 and 50")
    hooks = get_value(t, "hooks", str, where, f"{key}.hooks", None)
    if hooks is not None:
        check_hooks(hooks, where, f"{key}.hooks")  # it must import now, not mid-pass
    lang = get_value(t, "lang", str, where, f"{key}.lang", None)
    if lang is not None and not re.fullmatch(r"[a-z]{2}", lang):
        raise ConfigError(where, f"{key}.lang", f"an ISO 639-1 code like 'fr', not {lang!r}")
    return SourceConfig(
        name=name,
        lang=lang,
        title=get_value(t, "title", str, where, f"{key}.title", None),
        feeds=urls["feeds"],
        sitemaps=urls["sitemaps"],
        start_urls=urls["start_urls"],
        article_pattern=pattern,
        follow_depth=depth,
        enabled=get_value(t, "enabled", bool, where, f"{key}.enabled", True),
        allowed_domains=tuple(
            str_list(t.get("allowed_domains", []), where, f"{key}.allowed_domains")
        ),
        hooks=hooks,
    )
