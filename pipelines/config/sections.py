"""``[crawl]``, ``[schedule]``, ``[health]`` and ``[dedup]``: how politely, how often, with
what tolerance for failure a pass runs, and when an article counts as a copy."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import ip_network
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from pipelines import defaults
from pipelines.config.checks import check_address, get_value, reject_unknown, str_list
from pipelines.errors import ConfigError
from pipelines.models import DedupRules
from pipelines.schedule import cron_trigger


@dataclass(frozen=True)
class CrawlConfig:
    """Politeness knobs. Defaults suit real sites; tests and the demo lower the delays."""

    download_delay: float = defaults.DOWNLOAD_DELAY
    autothrottle_start_delay: float = defaults.AUTOTHROTTLE_START_DELAY
    concurrent_per_domain: int = defaults.CONCURRENT_PER_DOMAIN
    timeout: float = defaults.DOWNLOAD_TIMEOUT
    obey_robots: bool = defaults.OBEY_ROBOTS
    user_agent: str | None = None  # None: defaults.USER_AGENT
    max_pages_per_source: int = defaults.MAX_PAGES_PER_SOURCE
    max_sitemaps_per_source: int = defaults.MAX_SITEMAPS_PER_SOURCE
    max_entries_per_source: int = defaults.MAX_ENTRIES_PER_SOURCE
    pass_timeout_minutes: float = defaults.CRAWL_PASS_TIMEOUT_MINUTES  # then every crawl closes
    source_timeout_minutes: float = defaults.SOURCE_TIMEOUT_MINUTES  # then the source's closes
    retry_after_max: float = defaults.RETRY_AFTER_MAX  # longest wait a Retry-After may cause
    # False, True, or the addresses/networks (strings) that may be reached although private
    allow_private_targets: bool | tuple[str, ...] = defaults.ALLOW_PRIVATE_TARGETS
    # Extraction processes (None: one per core; 0 or 1: in the crawling process) and the
    # time cap on one page's extraction in a worker, in seconds (pipelines/pool.py).
    workers: int | None = None
    extract_timeout: float = defaults.EXTRACT_TIMEOUT


@dataclass(frozen=True)
class HealthConfig:
    """When a source counts as failing, and who hears about it."""

    failing_passes: int = defaults.FAILING_PASSES  # consecutive passes with errors, no article
    operator: tuple[str, ...] = ()  # empty: the alert recipients ([alerts] to)


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = defaults.SCHEDULE_CRON  # 5 fields, or 6 with seconds first
    timezone: str = defaults.SCHEDULE_TIMEZONE
    timeout_minutes: float = defaults.PASS_TIMEOUT_MINUTES  # then the pass is killed
    misfire_grace_seconds: int = defaults.MISFIRE_GRACE_SECONDS  # later: the fire is skipped


def parse_crawl(t: dict[str, Any], where: str) -> CrawlConfig:
    d = CrawlConfig()
    reject_unknown(t, set(d.__dataclass_fields__), where, "crawl.")
    number = (int, float)
    cfg = CrawlConfig(
        download_delay=float(
            get_value(t, "download_delay", number, where, "crawl.download_delay", d.download_delay)
        ),
        autothrottle_start_delay=float(
            get_value(
                t,
                "autothrottle_start_delay",
                number,
                where,
                "crawl.autothrottle_start_delay",
                d.autothrottle_start_delay,
            )
        ),
        concurrent_per_domain=get_value(
            t,
            "concurrent_per_domain",
            int,
            where,
            "crawl.concurrent_per_domain",
            d.concurrent_per_domain,
        ),
        timeout=float(get_value(t, "timeout", number, where, "crawl.timeout", d.timeout)),
        obey_robots=get_value(t, "obey_robots", bool, where, "crawl.obey_robots", d.obey_robots),
        user_agent=get_value(t, "user_agent", str, where, "crawl.user_agent", None),
        max_pages_per_source=get_value(
            t,
            "max_pages_per_source",
            int,
            where,
            "crawl.max_pages_per_source",
            d.max_pages_per_source,
        ),
        **_crawl_bounds(t, where, d),
        **_extraction(t, where, d),
        retry_after_max=float(
            get_value(
                t, "retry_after_max", number, where, "crawl.retry_after_max", d.retry_after_max
            )
        ),
    )
    if cfg.retry_after_max < 0:
        raise ConfigError(where, "crawl.retry_after_max", "must be >= 0 (seconds)")
    if "allow_private_targets" in t:
        cfg = replace(cfg, allow_private_targets=_private_targets(t, where))
    if cfg.download_delay < 0 or cfg.autothrottle_start_delay < 0 or cfg.timeout <= 0:
        raise ConfigError(where, "crawl", "delays must be >= 0 and timeout > 0")
    if not 1 <= cfg.concurrent_per_domain <= 8:
        raise ConfigError(where, "crawl.concurrent_per_domain", "must be between 1 and 8")
    return cfg


def _private_targets(t: dict[str, Any], where: str) -> bool | tuple[str, ...]:
    """``true``/``false``, or a list of addresses and networks (``["127.0.0.1/32"]``)."""
    key, value = "crawl.allow_private_targets", t["allow_private_targets"]
    if isinstance(value, bool):
        return value
    targets = str_list(value, where, key)
    for i, target in enumerate(targets):
        try:
            ip_network(target.strip("[]"), strict=False)
        except ValueError:
            raise ConfigError(
                where, f"{key}[{i}]", f"not an IP address or network: {target!r}"
            ) from None
    return tuple(targets)


def _crawl_bounds(t: dict[str, Any], where: str, d: CrawlConfig) -> dict[str, Any]:
    """``[crawl]``'s caps on one pass: sitemaps, entries, and time (fractional minutes)."""
    out: dict[str, Any] = {}
    for key in ("max_sitemaps_per_source", "max_entries_per_source"):
        out[key] = get_value(t, key, int, where, f"crawl.{key}", getattr(d, key))
        if out[key] < 1:
            raise ConfigError(where, f"crawl.{key}", f"must be >= 1, not {out[key]}")
    for key in ("pass_timeout_minutes", "source_timeout_minutes"):
        value = get_value(t, key, (int, float), where, f"crawl.{key}", getattr(d, key))
        if value <= 0:
            raise ConfigError(where, f"crawl.{key}", f"must be > 0 (minutes), not {value}")
        out[key] = float(value)
    return out


def _extraction(t: dict[str, Any], where: str, d: CrawlConfig) -> dict[str, Any]:
    """``[crawl] workers`` (0 to 256; absent: one per core) and ``extract_timeout`` (> 0 s)."""
    workers = t.get("workers")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= 256
    ):
        raise ConfigError(
            where, "crawl.workers", f"must be a whole number from 0 to 256, not {workers!r}"
        )
    timeout = get_value(
        t, "extract_timeout", (int, float), where, "crawl.extract_timeout", d.extract_timeout
    )
    if isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(where, "crawl.extract_timeout", f"must be > 0 (seconds), not {timeout}")
    return {"workers": workers, "extract_timeout": float(timeout)}


def parse_health(t: dict[str, Any], where: str) -> HealthConfig:
    reject_unknown(t, {"failing_passes", "operator"}, where, "health.")
    passes = get_value(
        t, "failing_passes", int, where, "health.failing_passes", defaults.FAILING_PASSES
    )
    if passes < 1:
        raise ConfigError(where, "health.failing_passes", f"must be >= 1, not {passes}")
    operator = tuple(str_list(t.get("operator", []), where, "health.operator"))
    for i, addr in enumerate(operator):
        check_address(addr, where, f"health.operator[{i}]")
    return HealthConfig(failing_passes=passes, operator=operator)


def parse_schedule(t: dict[str, Any], where: str) -> ScheduleConfig:
    d = ScheduleConfig()
    reject_unknown(t, set(d.__dataclass_fields__), where, "schedule.")
    cron = get_value(t, "cron", str, where, "schedule.cron", d.cron)
    timezone = get_value(t, "timezone", str, where, "schedule.timezone", d.timezone)
    try:
        if "cron" in t or "timezone" in t:  # the defaults are valid (tests/test_config.py)
            cron_trigger(cron, timezone)
    except ZoneInfoNotFoundError:
        raise ConfigError(where, "schedule.timezone", f"unknown time zone {timezone!r}") from None
    except ValueError as exc:
        raise ConfigError(where, "schedule.cron", str(exc)) from None
    timeout = get_value(
        t, "timeout_minutes", (int, float), where, "schedule.timeout_minutes", d.timeout_minutes
    )
    if timeout <= 0:
        raise ConfigError(where, "schedule.timeout_minutes", "must be > 0")
    grace = get_value(
        t,
        "misfire_grace_seconds",
        int,
        where,
        "schedule.misfire_grace_seconds",
        d.misfire_grace_seconds,
    )
    if grace < 1:
        raise ConfigError(where, "schedule.misfire_grace_seconds", "must be >= 1")
    return ScheduleConfig(
        cron=cron, timezone=timezone, timeout_minutes=float(timeout), misfire_grace_seconds=grace
    )


def parse_dedup(t: dict[str, Any], where: str) -> DedupRules:
    reject_unknown(t, {"threshold", "min_shingles", "max_document_frequency"}, where, "dedup.")
    d = DedupRules()
    threshold = float(
        get_value(t, "threshold", (int, float), where, "dedup.threshold", d.threshold)
    )
    if not 0 < threshold <= 1:
        raise ConfigError(where, "dedup.threshold", f"must be > 0 and <= 1, not {threshold}")
    least = get_value(t, "min_shingles", int, where, "dedup.min_shingles", d.min_shingles)
    most = get_value(
        t,
        "max_document_frequency",
        int,
        where,
        "dedup.max_document_frequency",
        d.max_document_frequency,
    )
    for key, value in (("min_shingles", least), ("max_document_frequency", most)):
        if value < 1:
            raise ConfigError(where, f"dedup.{key}", f"must be >= 1, not {value}")
    return DedupRules(threshold=threshold, min_shingles=least, max_document_frequency=most)
