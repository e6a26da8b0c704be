"""Loading and checking ``newswatch.toml``.

Configuration layers: the defaults (``pipelines/defaults.py``) -> ``newswatch.toml`` ->
command-line flags -> the environment, for secrets only. Everything here is checked when it
is loaded, so a typo fails at start with the file and the key named, not an hour into a pass.

One module per part of the file: ``sources`` (``[[sources]]``), ``alerts`` (``[alerts]``),
``sections`` (``[crawl]``, ``[schedule]``, ``[health]``); ``checks`` holds the value checks
they share. Topics (``[[topics]]``) are read by :mod:`pipelines.topics`, each
``[channels.*]`` table by its channel. Loading a config imports no sending code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config.alerts import SUBJECT_FIELDS, AlertsConfig, parse_alerts
from pipelines.config.checks import get_value, reject_unknown, resolve_path, str_list, table
from pipelines.config.cluster import ClusterConfig, parse_cluster, parse_store_url
from pipelines.config.sections import (
    CrawlConfig,
    HealthConfig,
    ScheduleConfig,
    parse_crawl,
    parse_dedup,
    parse_health,
    parse_schedule,
)
from pipelines.config.sources import SourceConfig, parse_sources
from pipelines.config.stories import StoriesConfig, parse_stories
from pipelines.errors import ConfigError
from pipelines.models import DedupRules
from pipelines.topics import Topic, default_topics, load_topics

__all__ = [
    "CONFIG_ENV",
    "SUBJECT_FIELDS",
    "AlertsConfig",
    "ClusterConfig",
    "Config",
    "CrawlConfig",
    "HealthConfig",
    "ScheduleConfig",
    "SourceConfig",
    "StoriesConfig",
    "load_config",
    "parse_config",
    "resolve_config_path",
]

CONFIG_ENV = "NEWSWATCH_CONFIG"
_TOP_KEYS = {
    "store",
    "alerts",
    "sources",
    "topics",
    "crawl",
    "schedule",
    "health",
    "dedup",
    "channels",
    "stories",
    "cluster",
}


@dataclass(frozen=True)
class Config:
    path: Path
    store_path: Path
    alerts: AlertsConfig
    sources: tuple[SourceConfig, ...]
    topics: tuple[Topic, ...]
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    dedup: DedupRules = field(default_factory=DedupRules)  # when an article is a copy
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # [channels.*]
    stories: StoriesConfig = field(default_factory=StoriesConfig)  # [stories]
    # a topic's own `channels = [...]`: where its alerts go (absent: every enabled channel)
    topic_channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # [store] url: the dataset in PostgreSQL (None: the SQLite file at store_path)
    store_url: str | None = None
    cluster: ClusterConfig = field(default_factory=ClusterConfig)  # [cluster]

    def __deepcopy__(self, memo: dict[int, object]) -> Config:
        # Read-only once loaded: every crawler of a pass gets a deep copy of the pass's
        # Scrapy settings, which hold the config (topics and their term indexes): one
        # shared object, not one copy per crawler (seconds of CPU and MBs per source).
        return self

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled]

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(str(self.path), "sources", f"no source named {name!r}")


def resolve_config_path(cli_value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--config`` beats ``NEWSWATCH_CONFIG`` beats ``./newswatch.toml``."""
    env = os.environ if environ is None else environ
    return Path(cli_value or env.get(CONFIG_ENV) or "newswatch.toml")


def load_config(path: Path) -> Config:
    """Read and check a config file; every problem is a :class:`ConfigError` naming the key."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, "(file)", "no such file; create one or pass --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "(file)", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "(syntax)", f"not valid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    where = str(path)
    reject_unknown(raw, _TOP_KEYS, where, "")
    base = path.parent.resolve()
    store = table(raw, "store", where)
    reject_unknown(store, {"path", "url"}, where, "store.")
    if "path" in store and "url" in store:
        raise ConfigError(where, "store", "give either path (SQLite) or url (PostgreSQL), not both")
    store_path = resolve_path(
        base, get_value(store, "path", str, where, "store.path", "newswatch.db")
    )
    store_url = parse_store_url(store["url"], where) if "url" in store else None
    sources = parse_sources(raw.get("sources", []), where)
    topics_raw = raw.get("topics")
    if topics_raw is None:
        topics = default_topics()
    else:
        if not isinstance(topics_raw, list) or not topics_raw:
            raise ConfigError(where, "topics", "must be a non-empty array of [[topics]] tables")
        routes = [_topic_channels(t, n, where) for n, t in enumerate(topics_raw)]
        topics_raw = [
            {k: v for k, v in t.items() if k != "channels"} if isinstance(t, dict) else t
            for t in topics_raw
        ]
        topics = load_topics(topics_raw, path=where)
    alerts = parse_alerts(table(raw, "alerts", where), base, where)
    topic_channels: dict[str, tuple[str, ...]] = {}
    if topics_raw is not None:
        for number, (topic, chosen) in enumerate(zip(topics, routes, strict=True)):
            for name in chosen or ():
                if name not in alerts.channels:
                    key = f"topics[{number}].channels"
                    raise ConfigError(where, key, f"{name!r} is not in [alerts] channels")
            if chosen is not None:
                topic_channels[topic.name] = chosen
    channels = table(raw, "channels", where)  # each channel checks its own table
    return Config(
        path=path,
        store_path=store_path,
        alerts=alerts,
        sources=tuple(sources),
        topics=tuple(topics),
        crawl=parse_crawl(table(raw, "crawl", where), where),
        schedule=parse_schedule(table(raw, "schedule", where), where),
        health=parse_health(table(raw, "health", where), where),
        dedup=parse_dedup(table(raw, "dedup", where), where),
        channels={n: table(channels, n, where) for n in channels},
        topic_channels=topic_channels,
        stories=parse_stories(table(raw, "stories", where), where),
        store_url=store_url,
        cluster=parse_cluster(table(raw, "cluster", where), where),
    )


def _topic_channels(topic: object, number: int, where: str) -> tuple[str, ...] | None:
    """A topic's ``channels`` list (None when it has none: every enabled channel)."""
    if not isinstance(topic, dict) or "channels" not in topic:
        return None
    chosen = tuple(str_list(topic["channels"], where, f"topics[{number}].channels"))
    return chosen
