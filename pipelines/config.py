"""Loading and checking ``newswatch.toml``.

Configuration layers (DESIGN.md): Scrapy defaults -> ``crawler/settings.py`` -> this file ->
command-line flags -> the environment, for secrets only. Everything here is checked when it
is loaded, so a typo fails at start with the file and the key named, not an hour into a pass.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

from pipelines.errors import ConfigError
from pipelines.mail import address_domain
from pipelines.schedule import cron_trigger
from pipelines.topics import Topic, default_topics, load_topics

CONFIG_ENV = "NEWSWATCH_CONFIG"
T = TypeVar("T")

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
}
_TOP_KEYS = {"store", "alerts", "sources", "topics", "crawl", "schedule", "health"}
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


@dataclass(frozen=True)
class AlertsConfig:
    to: tuple[str, ...] = ()
    sender: str = "newswatch@localhost"
    mode: str = "each"  # "each" | "digest"
    max_age_days: int = 30  # 0 = no limit
    maildir: Path | None = None
    subject_prefix: str = "[newswatch]"
    subject: str | None = None  # a template, e.g. "[newswatch] {count} new: {topic}"
    max_items_per_email: int = 25  # a longer digest is split into pages
    max_per_pass: int = 20  # emails of one item each; the rest of a pass go in one digest


@dataclass(frozen=True)
class CrawlConfig:
    """Politeness knobs. Defaults suit real sites; tests and the demo lower the delays."""

    download_delay: float = 0.25
    autothrottle_start_delay: float = 1.0
    concurrent_per_domain: int = 2
    timeout: float = 30.0
    obey_robots: bool = True
    user_agent: str | None = None
    max_pages_per_source: int = 500
    retry_after_max: float = 120.0  # seconds a 429/503's Retry-After may make a retry wait


@dataclass(frozen=True)
class HealthConfig:
    """When a source counts as failing, and who hears about it."""

    failing_passes: int = 3  # consecutive passes with errors and no article
    operator: tuple[str, ...] = ()  # empty: the alert recipients ([alerts] to)


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = "0 * * * *"  # 5 fields, or 6 with seconds first
    timezone: str = "UTC"
    timeout_minutes: float = 50  # a pass still running then is killed (its process group)
    misfire_grace_seconds: int = 300  # a fire time missed by more than this is skipped


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
    _reject_unknown(raw, _TOP_KEYS, where, "")
    base = path.parent.resolve()
    store = _table(raw, "store", where)
    _reject_unknown(store, {"path"}, where, "store.")
    store_path = _resolve(base, _get(store, "path", str, where, "store.path", "newswatch.db"))
    sources = _sources(raw.get("sources", []), where)
    topics_raw = raw.get("topics")
    if topics_raw is None:
        topics = default_topics()
    else:
        if not isinstance(topics_raw, list) or not topics_raw:
            raise ConfigError(where, "topics", "must be a non-empty array of [[topics]] tables")
        topics = load_topics(topics_raw, path=where)
    return Config(
        path=path,
        store_path=store_path,
        alerts=_alerts(_table(raw, "alerts", where), base, where),
        sources=tuple(sources),
        topics=tuple(topics),
        crawl=_crawl(_table(raw, "crawl", where), where),
        schedule=_schedule(_table(raw, "schedule", where), where),
        health=_health(_table(raw, "health", where), where),
    )


def _alerts(t: dict[str, Any], base: Path, where: str) -> AlertsConfig:
    _reject_unknown(t, _ALERT_KEYS, where, "alerts.")
    to = tuple(_str_list(t.get("to", []), where, "alerts.to"))
    for i, addr in enumerate(to):
        _check_address(addr, where, f"alerts.to[{i}]")
    mode = _get(t, "mode", str, where, "alerts.mode", "each")
    if mode not in ("each", "digest"):
        raise ConfigError(where, "alerts.mode", f"must be 'each' or 'digest', not {mode!r}")
    max_age = _get(t, "max_age_days", int, where, "alerts.max_age_days", 30)
    if max_age < 0:
        raise ConfigError(where, "alerts.max_age_days", "must be >= 0 (0 = no limit)")
    maildir = t.get("maildir")
    if maildir is not None and not isinstance(maildir, str):
        raise ConfigError(where, "alerts.maildir", "must be a string (a folder path)")
    sender = _get(t, "from", str, where, "alerts.from", "newswatch@localhost")
    _check_address(sender, where, "alerts.from")
    return AlertsConfig(
        to=to,
        sender=sender,
        mode=mode,
        max_age_days=max_age,
        maildir=_resolve(base, maildir) if maildir else None,
        subject_prefix=_get(
            t, "subject_prefix", str, where, "alerts.subject_prefix", "[newswatch]"
        ),
        subject=_subject_template(t, where),
        max_items_per_email=_at_least(t, "max_items_per_email", 1, 25, where),
        max_per_pass=_at_least(t, "max_per_pass", 0, 20, where),
    )


def _check_address(value: str, where: str, key: str) -> None:
    """One address with a domain; "Name <address>" is fine, a linefeed or a second one is not."""
    if address_domain(value) is None:
        raise ConfigError(where, key, f"not an email address: {value!r}")


_ALERT_KEYS = {
    "to",
    "from",
    "mode",
    "max_age_days",
    "maildir",
    "subject_prefix",
    "subject",
    "max_items_per_email",
    "max_per_pass",
}
SUBJECT_FIELDS = ("count", "topic", "title", "source", "prefix", "page", "pages")


def _subject_template(t: dict[str, Any], where: str) -> str | None:
    template: str | None = _get(t, "subject", str, where, "alerts.subject", None)
    if template is None:
        return None
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(where, "alerts.subject", f"not a valid template: {exc}") from None
    for name in names:
        if name not in SUBJECT_FIELDS:
            raise ConfigError(
                where,
                "alerts.subject",
                f"unknown placeholder {{{name}}} (known: {', '.join(SUBJECT_FIELDS)})",
            )
    sample = {"count": 2, "topic": "t", "title": "t", "source": "s", "prefix": "p"}
    try:  # a format spec that does not suit the value ("{title:d}") fails here, not at send
        template.format(**sample, page=1, pages=1)
    except (ValueError, TypeError) as exc:
        raise ConfigError(where, "alerts.subject", f"not a valid template: {exc}") from None
    return template


def _at_least(t: dict[str, Any], name: str, low: int, default: int, where: str) -> int:
    value: int = _get(t, name, int, where, f"alerts.{name}", default)
    if value < low:
        raise ConfigError(where, f"alerts.{name}", f"must be >= {low}, not {value}")
    return value


def _crawl(t: dict[str, Any], where: str) -> CrawlConfig:
    d = CrawlConfig()
    _reject_unknown(t, set(d.__dataclass_fields__), where, "crawl.")
    number = (int, float)
    cfg = CrawlConfig(
        download_delay=float(
            _get(t, "download_delay", number, where, "crawl.download_delay", d.download_delay)
        ),
        autothrottle_start_delay=float(
            _get(
                t,
                "autothrottle_start_delay",
                number,
                where,
                "crawl.autothrottle_start_delay",
                d.autothrottle_start_delay,
            )
        ),
        concurrent_per_domain=_get(
            t,
            "concurrent_per_domain",
            int,
            where,
            "crawl.concurrent_per_domain",
            d.concurrent_per_domain,
        ),
        timeout=float(_get(t, "timeout", number, where, "crawl.timeout", d.timeout)),
        obey_robots=_get(t, "obey_robots", bool, where, "crawl.obey_robots", d.obey_robots),
        user_agent=_get(t, "user_agent", str, where, "crawl.user_agent", None),
        max_pages_per_source=_get(
            t,
            "max_pages_per_source",
            int,
            where,
            "crawl.max_pages_per_source",
            d.max_pages_per_source,
        ),
        retry_after_max=float(
            _get(t, "retry_after_max", number, where, "crawl.retry_after_max", 120.0)
        ),
    )
    if cfg.retry_after_max < 0:
        raise ConfigError(where, "crawl.retry_after_max", "must be >= 0 (seconds)")
    if cfg.download_delay < 0 or cfg.autothrottle_start_delay < 0 or cfg.timeout <= 0:
        raise ConfigError(where, "crawl", "delays must be >= 0 and timeout > 0")
    if not 1 <= cfg.concurrent_per_domain <= 8:
        raise ConfigError(where, "crawl.concurrent_per_domain", "must be between 1 and 8")
    return cfg


def _health(t: dict[str, Any], where: str) -> HealthConfig:
    _reject_unknown(t, {"failing_passes", "operator"}, where, "health.")
    passes = _get(t, "failing_passes", int, where, "health.failing_passes", 3)
    if passes < 1:
        raise ConfigError(where, "health.failing_passes", f"must be >= 1, not {passes}")
    operator = tuple(_str_list(t.get("operator", []), where, "health.operator"))
    for i, addr in enumerate(operator):
        _check_address(addr, where, f"health.operator[{i}]")
    return HealthConfig(failing_passes=passes, operator=operator)


def _schedule(t: dict[str, Any], where: str) -> ScheduleConfig:
    d = ScheduleConfig()
    _reject_unknown(t, set(d.__dataclass_fields__), where, "schedule.")
    cron = _get(t, "cron", str, where, "schedule.cron", d.cron)
    timezone = _get(t, "timezone", str, where, "schedule.timezone", d.timezone)
    try:
        cron_trigger(cron, timezone)
    except ZoneInfoNotFoundError:
        raise ConfigError(where, "schedule.timezone", f"unknown time zone {timezone!r}") from None
    except ValueError as exc:
        raise ConfigError(where, "schedule.cron", str(exc)) from None
    timeout = _get(t, "timeout_minutes", (int, float), where, "schedule.timeout_minutes", 50)
    if timeout <= 0:
        raise ConfigError(where, "schedule.timeout_minutes", "must be > 0")
    grace = _get(t, "misfire_grace_seconds", int, where, "schedule.misfire_grace_seconds", 300)
    if grace < 1:
        raise ConfigError(where, "schedule.misfire_grace_seconds", "must be >= 1")
    return ScheduleConfig(
        cron=cron, timezone=timezone, timeout_minutes=float(timeout), misfire_grace_seconds=grace
    )


def _sources(raw: Any, where: str) -> list[SourceConfig]:
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
    _reject_unknown(t, _SOURCE_KEYS, where, key + ".")
    urls = {
        k: tuple(_urls(t.get(k, []), where, f"{key}.{k}"))
        for k in ("feeds", "sitemaps", "start_urls")
    }
    if not any(urls.values()):
        raise ConfigError(where, key, "needs at least one of feeds, sitemaps, start_urls")
    pattern = _get(t, "article_pattern", str, where, f"{key}.article_pattern", None)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(where, f"{key}.article_pattern", f"bad regex: {exc}") from None
    depth = _get(t, "follow_depth", int, where, f"{key}.follow_depth", SourceConfig.follow_depth)
    if not 0 <= depth <= 50:
        raise ConfigError(where, f"{key}.follow_depth", "must be between 0 and 50")
    lang = _get(t, "lang", str, where, f"{key}.lang", None)
    if lang is not None and not re.fullmatch(r"[a-z]{2}", lang):
        raise ConfigError(where, f"{key}.lang", f"an ISO 639-1 code like 'fr', not {lang!r}")
    return SourceConfig(
        name=name,
        lang=lang,
        title=_get(t, "title", str, where, f"{key}.title", None),
        feeds=urls["feeds"],
        sitemaps=urls["sitemaps"],
        start_urls=urls["start_urls"],
        article_pattern=pattern,
        follow_depth=depth,
        enabled=_get(t, "enabled", bool, where, f"{key}.enabled", True),
        allowed_domains=tuple(
            _str_list(t.get("allowed_domains", []), where, f"{key}.allowed_domains")
        ),
    )


def _urls(value: Any, where: str, key: str) -> list[str]:
    urls = _str_list(value, where, key)
    for i, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(where, f"{key}[{i}]", f"not an http(s) URL: {url!r}")
    return urls


def _str_list(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(where, key, "must be a list of non-empty strings")
    return list(value)


def _table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    t = raw.get(name, {})
    if not isinstance(t, dict):
        raise ConfigError(where, name, f"must be a [{name}] table")
    return t


def _get(
    t: dict[str, Any],
    name: str,
    kind: type[T] | tuple[type, ...],
    where: str,
    key: str,
    default: Any,
) -> Any:
    if name not in t:
        return default
    value = t[name]
    # bool is an int in Python; a number where a flag is expected (or back) is a typo.
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(where, key, f"must be {names}, not {value!r}")
    return value


def _reject_unknown(t: dict[str, Any], known: set[str], where: str, prefix: str) -> None:
    for k in t:
        if k not in known:
            raise ConfigError(where, prefix + k, f"unknown key (known: {', '.join(sorted(known))})")


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p
