"""What a crawl counts, under typed names, and one source's counts read back from them.

The spider, the item pipeline and the middlewares count into Scrapy's stats collector
under the keys of :class:`Stat`; :meth:`SourceReport.from_stats` reads the same keys back
when the crawl closes. Error kinds (``crawler/errors.py``) are counted under
:func:`error_key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pipelines.health import SourcePass

ERRORS_PREFIX = "newswatch/errors/"
# Why a crawl was closed before it was done (Scrapy's ``finish_reason``): the source's own
# time budget ([crawl] source_timeout_minutes; Scrapy's CLOSESPIDER_TIMEOUT, if set, counts
# as one), the pass deadline ([crawl] pass_timeout_minutes), see crawler/deadline.py, or a
# signal that stopped the pass (SIGTERM or Ctrl-C: Scrapy's "shutdown").
STOPPED_REASONS: Final = {
    "source_timeout": "source_timeout",
    "closespider_timeout": "source_timeout",
    "pass_timeout": "pass_timeout",
    "shutdown": "shutdown",
}


class Stat:
    """Stats keys (plain strings, so that Scrapy's stats dump stays readable)."""

    DISCOVERY_REQUESTED: Final = "newswatch/discovery/requested"
    DISCOVERY_OK: Final = "newswatch/discovery/ok"
    DISCOVERY_FAILED: Final = "newswatch/discovery/failed"
    NOT_MODIFIED: Final = "newswatch/discovery/not_modified"  # a discovery page answered 304
    FETCHED: Final = "newswatch/articles/fetched"
    KNOWN: Final = "newswatch/articles/known"
    NEW: Final = "newswatch/articles/new"
    DUPLICATE: Final = "newswatch/articles/duplicate"
    UPDATED: Final = "newswatch/articles/updated"
    NOT_ARTICLE: Final = "newswatch/articles/not_article"
    RELEVANT: Final = "newswatch/articles/relevant"
    REFETCHED: Final = "newswatch/articles/refetched"
    TOO_OLD: Final = "newswatch/articles/too_old"
    OVER_LIMIT: Final = "newswatch/articles/over_limit"
    ALERTS_QUEUED: Final = "newswatch/alerts/queued"
    RETRY_AFTER_WAITED: Final = "newswatch/retry_after/waited"
    # Pages the extraction pool gave up on (pipelines/pool.py): counted as errors by kind.
    EXTRACT_TIMEOUT: Final = "newswatch/errors/extract_timeout"  # over [crawl] extract_timeout
    EXTRACT_CRASHED: Final = "newswatch/errors/extract_crashed"  # the page killed its worker
    # Scrapy's own
    REQUESTS: Final = "downloader/request_count"
    BYTES: Final = "downloader/response_bytes"


def error_key(kind: str) -> str:
    """``newswatch/errors/timeout``: where an error of one kind is counted."""
    return ERRORS_PREFIX + kind


def outcome_key(kind: str) -> str:
    """Where the item pipeline counts a page's outcome (``new``, ``duplicate``, ...)."""
    return f"newswatch/articles/{kind}"


@dataclass
class SourceReport:
    """Per-source counts of one pass; stored in ``runs.sources`` as JSON."""

    name: str
    requests: int = 0
    discovery_ok: int = 0
    discovery_failed: int = 0
    not_modified: int = 0  # discovery pages answered 304: unchanged, not parsed
    fetched: int = 0
    known: int = 0
    new: int = 0
    duplicates: int = 0
    updated: int = 0
    not_articles: int = 0
    relevant: int = 0
    alerts_queued: int = 0
    bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    stopped: str = ""  # "source_timeout" | "pass_timeout" | "shutdown": closed before done

    @property
    def failed(self) -> bool:
        """Failed as a whole: none of its feeds, sitemaps or start pages could be read."""
        return self.discovery_ok == 0 and self.discovery_failed > 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def bad(self) -> bool:
        """Errors that concern the source itself and no article: what source health counts."""
        return self.health_input().bad

    def health_input(self) -> SourcePass:
        return SourcePass(self.name, self.errors, self.new + self.duplicates + self.updated)

    @classmethod
    def from_stats(cls, name: str, stats: Mapping[str, Any]) -> SourceReport:
        def n(key: str) -> int:
            return int(stats.get(key, 0))

        errors = {
            k.removeprefix(ERRORS_PREFIX): int(v)
            for k, v in stats.items()
            if k.startswith(ERRORS_PREFIX)
        }
        exceptions = sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
        if exceptions:
            errors["exception"] = exceptions
        return cls(
            name=name,
            requests=n(Stat.REQUESTS),
            discovery_ok=n(Stat.DISCOVERY_OK),
            discovery_failed=n(Stat.DISCOVERY_FAILED),
            not_modified=n(Stat.NOT_MODIFIED),
            fetched=n(Stat.FETCHED),
            known=n(Stat.KNOWN),
            new=n(Stat.NEW),
            duplicates=n(Stat.DUPLICATE),
            updated=n(Stat.UPDATED),
            not_articles=n(Stat.NOT_ARTICLE),
            relevant=n(Stat.RELEVANT),
            alerts_queued=n(Stat.ALERTS_QUEUED),
            bytes=n(Stat.BYTES),
            errors=errors,
            stopped=STOPPED_REASONS.get(str(stats.get("finish_reason", "")), ""),
        )
