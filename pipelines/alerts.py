"""Alert messages: pending alerts, grouped into the messages a channel delivers.

An article that matches a topic queues one alert (``alerts``, written with the article);
this module turns the alerts due on a channel into neutral messages: one per alert, a
digest per recipient list beyond ``[alerts] max_per_pass`` (a new source or a busy news day
is a few messages, not a hundred), or one digest per topic in ``digest`` mode; a digest
longer than ``max_items_per_email`` is split into pages. :mod:`pipelines.outbox` sends them,
exactly once, with the notices of :mod:`pipelines.notices`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pipelines.channels import Message
from pipelines.mail import AlertItem, compose_alert
from pipelines.topics import Topic

if TYPE_CHECKING:
    from pipelines.config import AlertsConfig, Config
    from pipelines.store import Store

NO_RECIPIENTS = "no recipients: set [alerts] to, or recipients of the topic"


@dataclass(frozen=True)
class PlannedMessage:
    items: list[AlertItem]
    to: list[str]
    page: tuple[int, int] | None = None  # (n, of) for a digest split into pages


def pending_items(
    store: Store,
    channel: str,
    topics: Sequence[Topic],
    source_titles: Mapping[str, str] | None = None,
    *,
    due_at: str | None = None,
) -> list[AlertItem]:
    """Alerts pending on ``channel`` with what a message shows; sources by their title.

    With ``due_at``, only alerts whose backoff has run out by then; without, all of them.
    """
    titles = {t.name: (t.title or t.name) for t in topics}
    sources = source_titles or {}
    items = []
    for row in store.due_alerts(channel, due_at):
        match = next((m for m in row.matches if m.get("topic") == row.topic), {})
        items.append(
            AlertItem(
                alert_id=row.alert_id,
                topic=row.topic,
                topic_title=titles.get(row.topic, row.topic),
                article_id=row.article_id,
                url=row.url,
                title=row.title or row.url,
                source=sources.get(row.source, row.source),
                published=row.published,
                lang=row.lang,
                score=float(match.get("score", 0.0)),
                terms=match.get("terms", {}),
                snippet=match.get("snippet", ""),
                copies=store.article_copies(row.article_id),
            )
        )
    return items


def plan_messages(
    items: Sequence[AlertItem], topics: Sequence[Topic], cfg: AlertsConfig
) -> list[PlannedMessage]:
    """Group items into messages (see the module's docstring)."""
    recipients = {t.name: list(t.recipients or cfg.to) for t in topics}
    singles: list[PlannedMessage] = []
    groups: dict[tuple[str, ...], list[AlertItem]] = {}
    for item in items:
        to = recipients.get(item.topic) or list(cfg.to)
        if cfg.mode == "each" and (cfg.max_per_pass == 0 or len(singles) < cfg.max_per_pass):
            singles.append(PlannedMessage([item], to))
        elif cfg.mode == "each":
            groups.setdefault(("", *to), []).append(item)
        else:
            groups.setdefault((item.topic, *to), []).append(item)
    plan = singles
    size = cfg.max_items_per_email
    for key, group in groups.items():
        pages = [group[n : n + size] for n in range(0, len(group), size)]
        for number, page in enumerate(pages, start=1):
            plan.append(PlannedMessage(page, list(key[1:]), (number, len(pages))))
    return plan


def alert_messages(
    store: Store,
    config: Config,
    channel: str,
    *,
    due_at: str | None,
    now: datetime | None = None,
) -> list[Message]:
    """The messages for every alert due on ``channel``, in the order they go out.

    Recipients: the topic's, else ``[alerts] to`` (by email), and ``[channels.<name>] to``
    for a channel that names its own.
    """
    cfg, topics = config.alerts, config.topics
    titles = {s.name: s.title or s.name for s in config.sources}
    plan = plan_messages(pending_items(store, channel, topics, titles, due_at=due_at), topics, cfg)
    own = channel_recipients(config)
    return [
        compose_alert(
            planned.items,
            sender=cfg.sender,
            recipients={"email": tuple(planned.to), **own},
            subject_prefix=cfg.subject_prefix,
            subject_template=cfg.subject,
            page=planned.page,
            now=now,
        )
        for planned in plan
    ]


def channel_recipients(config: Config) -> dict[str, tuple[str, ...]]:
    """Channels that name their own recipients (``[channels.<name>] to``); the ``email``
    channel's are the topics' and ``[alerts] to``."""
    found = {}
    for name, settings in config.channels.items():
        to = settings.get("to")
        if name != "email" and isinstance(to, list | tuple):
            found[name] = tuple(str(t) for t in to)
    return found
