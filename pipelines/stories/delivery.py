"""After clustering: what a story's readers must still get, queued in the outbox.

The outbox holds alert rows per (article, topic); an article queues one when it matched the
topic. Clustering adds the rows the topic alone would not: for an article that scored below
the topic's threshold but links to a story with alerts for that topic at least
``firm_threshold`` ("also covered by"). Never for a copy (copies are listed under their
original, :mod:`pipelines.alerts`), nor for an article older than ``[alerts]
max_age_days``. With
``[stories] updates = "never"``, the rows of a story already reported are folded into it
without a message of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pipelines.clock import utcnow
from pipelines.stories.engine import Assigned, cluster_new

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.store import Store

FOLDED = 'folded into story {story} ([stories] updates = "never")'


@dataclass
class AssignReport:
    assigned: int = 0
    new_stories: int = 0
    also_covered: int = 0  # rows queued for articles below a topic's threshold
    folded: int = 0  # rows folded silently (updates = "never")
    stories: set[int] = field(default_factory=set)  # the stories that changed


def assign_new(store: Store, config: Config, *, dry_run: bool = False) -> AssignReport:
    """Assign every stored article without a story (oldest published first) and queue
    the rows its story calls for; idempotent. A dry run clusters and leaves the outbox
    alone."""
    report = AssignReport()
    done = cluster_new(store, config.stories)
    report.assigned = len(done)
    report.new_stories = sum(1 for a in done if a.via == "new")
    report.stories = {a.story_id for a in done}
    if dry_run:
        return report
    now = utcnow()
    # The articles this call assigned, and those a dry run assigned before it.
    for article, story_id, via, score in store.unsettled_links():
        with store.transaction():
            _queue_for(
                store, config, Assigned(article.id, story_id, via, score, article), report, now
            )
            store.settle_link(article.id)
    if config.stories.updates == "never":
        for alert_id, story_id in store.updates_to_fold():
            store.fold_alert(alert_id, FOLDED.format(story=story_id))
            report.folded += 1
    return report


def _queue_for(
    store: Store, config: Config, assigned: Assigned, report: AssignReport, now: str
) -> None:
    art = assigned.article
    if art.duplicate_of is not None or art.source == "seed":
        return
    # How firmly it is in the story: its own link, or the link of an article that joined
    # through it (it may have started the story that a relevant article then joined).
    firmness = max(assigned.score, store.best_link_to(art.id))
    if firmness < config.stories.firm_threshold:
        return
    if not _recent(art.published, config.alerts.max_age_days):
        return
    matched = {str(m.get("topic")) for m in art.topics}
    story_topics = store.story_alert_topics(assigned.story_id)
    missing = sorted(set(story_topics) - store.alert_topics(art.id) - matched)
    if missing:
        report.also_covered += store.queue_alerts(art.id, missing, now)


def _recent(published: str | None, max_age_days: int) -> bool:
    if max_age_days <= 0 or not published:
        return True
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return True
    return day >= datetime.now(UTC).date() - timedelta(days=max_age_days)
