"""Alert messages: pending alerts, grouped by story, into the messages a channel delivers.

An article that matches a topic queues one alert row (``alerts``, written with the article);
clustering (:mod:`pipelines.stories`) adds rows for the articles that scored below the
topic's threshold but belong firmly to a story it alerts ("also covered by"). At send
time the rows due on a channel are grouped by (story, topic):

- a story not yet reported on the channel raises ONE item of kind "alert": its
  earliest-published relevant article leads, the other pending articles of the story are
  its ``outlets`` (an article below the topic's threshold as "also-covered", the copies
  of each article as "copy" under it);
- a story already reported raises at most one item of kind "update" per send, listing its
  new articles, or none with ``[stories] updates = "daily"`` until a day after its last
  report (``"never"``: clustering folded them into the story without a message).

Every row folded into an item is one of its message's ``items``, delivered together: a
re-run finds nothing pending, and a crash mid-send never sends a row twice (the outbox's
claim). Items then go one per message, a digest per recipient list beyond ``[alerts]
max_per_pass``, or one digest per topic in ``digest`` mode, split into pages beyond
``max_items_per_email``. :mod:`pipelines.outbox` sends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pipelines.channels import Message
from pipelines.clock import iso_utc
from pipelines.mail import AlertItem, Outlet, compose_alert
from pipelines.stories.features import utc_moment
from pipelines.topics import Topic

if TYPE_CHECKING:
    from pipelines.config import AlertsConfig, Config
    from pipelines.store import Store
    from pipelines.store.outbox import PendingAlert

NO_RECIPIENTS = "no recipients: set [alerts] to, or recipients of the topic"
DAILY = timedelta(days=1)


@dataclass(frozen=True)
class PlannedMessage:
    items: list[AlertItem]
    to: list[str]
    page: tuple[int, int] | None = None  # (n, of) for a digest split into pages


@dataclass(frozen=True)
class StoryItem:
    """An item and every alert row it carries (its lead's and its outlets')."""

    item: AlertItem
    alert_ids: tuple[int, ...]


def story_items(
    store: Store,
    channel: str,
    topics: Sequence[Topic],
    source_titles: Mapping[str, str] | None = None,
    *,
    due_at: str | None = None,
    updates: str = "each-pass",
    now: datetime | None = None,
) -> list[StoryItem]:
    """Alerts pending on ``channel`` grouped by (story, topic), each group one item.

    With ``due_at``, only alerts whose backoff has run out by then; without, all of them.
    """
    titles = {t.name: (t.title or t.name) for t in topics}
    sources = source_titles or {}
    rows = store.due_alerts(channel, due_at)
    stories = store.alert_stories([r.alert_id for r in rows])
    groups: dict[tuple[int, str], list[PendingAlert]] = {}
    for row in rows:
        story_id, _ = stories.get(row.alert_id, (None, None))
        key = (story_id if story_id is not None else -row.article_id, row.topic)
        groups.setdefault(key, []).append(row)
    cutoff = iso_utc((now or datetime.now(UTC)) - DAILY)
    found: list[StoryItem] = []
    for (story_key, topic), group in groups.items():
        copies = {r.alert_id: stories.get(r.alert_id, (None, None))[1] for r in group}
        kinds = {r.alert_id: _kind(r, copies[r.alert_id]) for r in group}
        story_id = story_key if story_key > 0 else None
        reported = (
            store.story_reported(story_id, topic, channel, [r.alert_id for r in group])
            if story_id is not None
            else None
        )
        if reported is None:
            leads = [r for r in group if kinds[r.alert_id] == "article"] or [
                r for r in group if kinds[r.alert_id] == "reaction"
            ]
            if not leads:  # nothing of the story matched the topic yet: wait for it
                continue
            kind = "alert"
        else:
            if updates == "never" or (updates == "daily" and reported > cutoff):
                continue
            leads = [r for r in group if kinds[r.alert_id] == "article"] or list(group)
            kind = "update"
        lead = min(leads, key=_published_order)
        others = sorted((r for r in group if r is not lead), key=_published_order)
        outlets = tuple(_outlet(r, kinds[r.alert_id], copies[r.alert_id], sources) for r in others)
        outlets += _copies(store, [lead, *others], sources)
        item = _item(store, lead, titles, sources, kind, story_id, outlets)
        found.append(StoryItem(item, tuple(r.alert_id for r in [lead, *others])))
    found.sort(key=lambda s: s.item.alert_id)
    return found


def _copies(
    store: Store, rows: Sequence[PendingAlert], sources: Mapping[str, str]
) -> tuple[Outlet, ...]:
    """The copies of the item's articles, each under its original."""
    return tuple(
        Outlet(
            article_id=int(c["id"]),
            url=str(c["url"]),
            title=str(c["title"] or c["url"]),
            source=sources.get(str(c["source"]), str(c["source"])),
            domain=_domain(str(c["url"])),
            lang=c["lang"],
            published=c["published"],
            kind="copy",
            copy_of=int(c["duplicate_of"]),
        )
        for c in store.copies_of([r.article_id for r in rows])
    )


def _kind(row: PendingAlert, copy_of: int | None) -> str:
    """What the row is to its story: a matching "article", a "reaction", a "copy", or
    "also-covered" (in the story, below the topic's threshold)."""
    if copy_of is not None:
        return "copy"
    match = next((m for m in row.matches if m.get("topic") == row.topic), None)
    if match is None:
        # An alert queued for a relevant article without its match (an older row, or one
        # queued by hand) is still an article of the topic.
        return "article" if row.relevant else "also-covered"
    return "reaction" if match.get("kind") == "reaction" else "article"


def _published_order(row: PendingAlert) -> tuple[str, int]:
    return (utc_moment(row.published, "9999-12-31"), row.alert_id)


def _domain(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _outlet(
    row: PendingAlert, kind: str, copy_of: int | None, sources: Mapping[str, str]
) -> Outlet:
    return Outlet(
        article_id=row.article_id,
        url=row.url,
        title=row.title or row.url,
        source=sources.get(row.source, row.source),
        domain=_domain(row.url),
        lang=row.lang,
        published=row.published,
        kind=kind,
        copy_of=copy_of,
    )


def _item(
    store: Store,
    row: PendingAlert,
    titles: Mapping[str, str],
    sources: Mapping[str, str],
    kind: str,
    story_id: int | None,
    outlets: tuple[Outlet, ...],
) -> AlertItem:
    match: dict[str, Any] = next((m for m in row.matches if m.get("topic") == row.topic), {})
    story = store.story(story_id) if story_id is not None else None
    return AlertItem(
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
        kind=kind,
        story_id=story_id,
        story_title=(story or {}).get("title") or row.title or row.url,
        outlets=outlets,
        story_articles=int((story or {}).get("article_count") or 1),
        story_sources=len((story or {}).get("sources") or [row.source]),
        story_languages=tuple((story or {}).get("languages") or ([row.lang] if row.lang else [])),
        why=str(match.get("why") or ""),
    )


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
    moment = now or (datetime.fromisoformat(due_at) if due_at else None)  # the send's time
    found = story_items(
        store, channel, topics, titles, due_at=due_at, updates=config.stories.updates, now=moment
    )
    carried = {s.item.alert_id: s.alert_ids for s in found}
    plan = plan_messages([s.item for s in found], topics, cfg)
    own = channel_recipients(config)
    messages = []
    for planned in plan:
        message = compose_alert(
            planned.items,
            sender=cfg.sender,
            recipients={"email": tuple(planned.to), **own},
            subject_prefix=cfg.subject_prefix,
            subject_template=cfg.subject,
            page=planned.page,
            now=now,
        )
        ids = tuple(i for item in planned.items for i in carried[item.alert_id])
        messages.append(replace(message, items=ids))
    return messages


def channel_recipients(config: Config) -> dict[str, tuple[str, ...]]:
    """Channels that name their own recipients (``[channels.<name>] to``); the ``email``
    channel's are the topics' and ``[alerts] to``."""
    found = {}
    for name, settings in config.channels.items():
        to = settings.get("to")
        if name != "email" and isinstance(to, list | tuple):
            found[name] = tuple(str(t) for t in to)
    return found
