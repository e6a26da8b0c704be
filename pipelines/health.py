"""Source health: notice a source that silently broke, tell the operator once, and again
when it recovers.

Each pass records per source what it fetched and which errors it met (``runs.sources``).
A pass is *bad* for a source when it met errors that concern the source itself and
yielded no article. After ``[health] failing_passes`` bad passes in a row the source turns
``failing`` and one notice is queued; the first pass that is not bad turns it ``ok`` again
and queues one "recovered" notice. The state change and its notice are written in one
transaction, so a crash can neither lose a notice nor queue it twice.

Notices wait in ``notices`` and go out through the same outbox as the alerts
(``pipelines/notices.py`` writes them, ``pipelines/outbox.py`` sends them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.clock import utcnow
from pipelines.config import Config
from pipelines.store import Store
from pipelines.store.runs import HealthRow

# One page gone (remembered, not asked for again) or refused by robots.txt says nothing
# about the source; a refused connection, a timeout, a 5xx or an unreadable feed does.
PAGE_LEVEL_ERRORS = frozenset(
    {
        "http_404",
        "http_410",
        "robots",
        "not_html",
        "redirect_self",
        "url_too_long",
        # one page that hung or crashed its extraction worker says nothing about the site
        "extract_timeout",
        "extract_crashed",
    }
)


@dataclass(frozen=True)
class SourcePass:
    """What one pass saw of one source, as far as health is concerned."""

    name: str
    errors: Mapping[str, int]
    articles: int  # pages stored or refreshed: new, duplicates, updated

    @property
    def trouble(self) -> dict[str, int]:
        return {k: v for k, v in self.errors.items() if k not in PAGE_LEVEL_ERRORS and v}

    @property
    def bad(self) -> bool:
        return bool(self.trouble) and self.articles == 0


def update_health(
    store: Store, run_id: int, passes: Sequence[SourcePass], config: Config
) -> list[str]:
    """Record one pass; returns the notices queued, as ``"source kind"`` strings."""
    queued = []
    for p in passes:
        with store.transaction():  # the state change and its notice land together
            row, kind = next_health(
                store.source_health(p.name), p, run_id, config.health.failing_passes, utcnow()
            )
            store.save_source_health(row)
            if kind is not None:
                detail = json.dumps({"errors": p.trouble}, sort_keys=True)
                store.queue_notice(source=p.name, kind=kind, run_id=run_id, detail=detail)
                queued.append(f"{p.name} {kind}")
    return queued


def next_health(
    row: HealthRow, p: SourcePass, run_id: int, limit: int, now: str
) -> tuple[HealthRow, str | None]:
    """A source's health after one more pass, and the notice kind to queue, if any."""
    state, bad_passes, since = row.state, row.bad_passes, row.since
    notice = None
    if p.bad:
        bad_passes += 1
        if state == "ok" and bad_passes >= limit:
            state, since, notice = "failing", now, "failing"
    else:
        bad_passes = 0
        if state == "failing":
            state, since, notice = "ok", now, "recovered"
    error = ", ".join(f"{k} {v}" for k, v in sorted(p.trouble.items())) or None
    return HealthRow(p.name, state, bad_passes, since, run_id, error), notice
