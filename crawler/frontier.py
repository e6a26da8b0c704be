"""The frontier of one source's crawl: which article URLs to fetch in this pass.

Identity is decided before fetching: a URL key the dataset holds is not asked for again,
a key another source of this pass already queued is not asked for twice, and at most
``[crawl] max_pages_per_source`` new pages are queued per source. A stored article is
fetched again only when its feed or sitemap says it changed after we last fetched it,
at most ``MAX_REFETCH`` a pass.

Discovery is bounded too, so that a sitemap index of 10,000 sitemaps costs no more than a
small one: at most ``[crawl] max_sitemaps_per_source`` sitemaps are asked for and at most
``max_entries_per_source`` feed and sitemap entries are looked at per source and pass, and
no further sitemap is asked for once the page cap is reached. An index's sitemaps are asked
for newest first (:func:`newest_first`), so a capped pass reads what changed last and the
next pass, finding those articles stored, gets further.

The frontier reads the dataset through the store, never by itself in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from pipelines import defaults
from pipelines.config import Config
from pipelines.store import Store, open_config_store
from pipelines.store.validators import Validators

# Stored articles fetched again in one pass because their feed or sitemap says they changed;
# bounded because some sites stamp every sitemap entry with the time of the request.
MAX_REFETCH = 20


@dataclass(frozen=True)
class StoreSnapshot:
    """What the dataset holds when a pass starts: read once for all of its sources."""

    stored: frozenset[str] = frozenset()  # URL keys not to fetch (articles, non-articles, gone)
    checked: dict[str, datetime] = field(default_factory=dict)  # article -> last fetched

    @classmethod
    def load(cls, store: Store) -> StoreSnapshot:
        return cls(
            frozenset(store.known_url_keys()),
            {k: parse_when(v) for k, v in store.article_check_times().items()},
        )

    @classmethod
    def read(cls, config: Config) -> StoreSnapshot:
        with open_config_store(config) as store:
            return cls.load(store)


class Admission(Enum):
    NEW = "new"  # queue it
    STORED = "stored"  # the dataset holds it
    SEEN = "seen"  # queued earlier in this pass (by this source or another)
    OVER_LIMIT = "over_limit"  # max_pages_per_source reached: it waits for the next pass


class Frontier:
    """One source's view: the snapshot, the keys queued so far, and its budgets."""

    def __init__(
        self,
        max_pages: int,
        claimed: set[str] | None = None,
        *,
        refetch: bool = True,
        max_sitemaps: int = defaults.MAX_SITEMAPS_PER_SOURCE,
        max_entries: int = defaults.MAX_ENTRIES_PER_SOURCE,
    ) -> None:
        self.max_pages = max_pages
        self.max_sitemaps = max_sitemaps
        self.max_entries = max_entries
        self.sitemaps = 0  # sitemaps asked for in this pass
        self.entries = 0  # feed and sitemap entries looked at in this pass
        self.capped: set[str] = set()  # the caps reached: "pages", "sitemaps", "entries"
        # URL keys queued in this pass by any source crawled in this process: two sources
        # that list one article (a shared feed, overlapping sections) fetch it once.
        self.claimed = claimed if claimed is not None else set()
        self.refetch_allowed = refetch
        self.snapshot = StoreSnapshot()
        self.known: set[str] = set()  # stored, or queued by this source in this pass
        self.queued = 0
        self.refetched = 0
        self.over_limit = 0

    def begin(self, snapshot: StoreSnapshot) -> None:
        self.snapshot = snapshot
        self.known = set(snapshot.stored)

    def is_stored(self, key: str) -> bool:
        """Held by the dataset when the pass started (not merely queued in this pass)."""
        return key in self.snapshot.stored

    def refetch(self, key: str, changed: str | None) -> bool:
        """Whether a stored article is due again because it ``changed`` since we fetched it;
        counts it (and claims its key) when so."""
        fetched = self.snapshot.checked.get(key)
        if changed is None or fetched is None or key in self.claimed:
            return False
        if self.refetched >= MAX_REFETCH or not self.refetch_allowed:
            return False
        try:
            due = parse_when(changed) > fetched
        except ValueError:
            return False
        if due:
            self.refetched += 1
            self.claimed.add(key)
        return due

    @property
    def full(self) -> bool:
        """The page cap is reached: nothing new is queued, no further sitemap is read."""
        return self.queued >= self.max_pages

    def take_sitemap(self) -> bool:
        """Whether one more sitemap may be asked for (counted when so)."""
        if self.sitemaps >= self.max_sitemaps:
            return False
        self.sitemaps += 1
        return True

    def take_entry(self) -> bool:
        """Whether one more feed or sitemap entry may be looked at (counted when so)."""
        if self.entries >= self.max_entries:
            return False
        self.entries += 1
        return True

    def first_cap(self, cap: str) -> bool:
        """True once, the first time ``cap`` is reached: when to warn about it."""
        if cap in self.capped:
            return False
        self.capped.add(cap)
        return True

    def admit(self, key: str) -> Admission:
        """Whether to queue a page; a NEW page is counted and claimed."""
        if key in self.known or key in self.claimed:
            return Admission.STORED if key in self.snapshot.stored else Admission.SEEN
        if self.queued >= self.max_pages:
            self.over_limit += 1
            return Admission.OVER_LIMIT
        self.known.add(key)
        self.claimed.add(key)
        self.queued += 1
        return Admission.NEW


class Dated(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def lastmod(self) -> str | None: ...


_NUMBER = re.compile(r"\d+")


DatedT = TypeVar("DatedT", bound=Dated)


def newest_first(entries: Sequence[DatedT]) -> list[DatedT]:
    """An index's sitemaps in the order to read them when not all may be read.

    The rule: sitemaps with a ``lastmod`` come first, latest first; an entry without one
    keeps its place after them. When no entry has a ``lastmod`` and every sitemap's path
    carries a number (date archives ``/sitemap-2026-05.xml``, chunks ``post-sitemap12.xml``),
    the highest numbers come first, compared number by number; otherwise the index's own
    order is kept.
    """
    dated = [(e, _when(e.lastmod)) for e in entries]
    if any(when is not None for _, when in dated):
        with_date = [(e, w) for e, w in dated if w is not None]
        with_date.sort(key=lambda ew: ew[1], reverse=True)  # stable: ties keep their order
        return [e for e, _ in with_date] + [e for e, w in dated if w is None]
    numbers = [tuple(int(n) for n in _NUMBER.findall(_path(e.url))) for e in entries]
    if entries and all(numbers):
        order = sorted(range(len(entries)), key=lambda i: numbers[i], reverse=True)
        return [entries[i] for i in order]
    return list(entries)


def _when(stamp: str | None) -> datetime | None:
    try:
        return parse_when(stamp) if stamp else None
    except ValueError:
        return None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def load_validators(config: Config, source: str) -> Validators:
    """What a source's discovery pages answered last time (see crawler/discovery.py)."""
    with open_config_store(config) as store:
        return store.load_validators(source)


def save_validators(config: Config, source: str, validators: Validators) -> None:
    with open_config_store(config) as store:
        store.save_validators(source, validators)


def parse_when(stamp: str) -> datetime:
    """An ISO 8601 date or datetime as an aware datetime (UTC when it names no zone)."""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
