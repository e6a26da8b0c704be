"""The outbox: alert rows written with their article, sent in a separate step.

States: ``pending`` -> ``sending`` -> ``sent``; a delivery error puts the row back to
``pending`` (``attempts`` and ``last_error`` kept) until ``MAX_ATTEMPTS``, then ``failed``.

Exactly once: a row is marked ``sending`` and committed *before* the message is handed to
the transport, and ``sent`` right after. A crash between the two leaves ``sending``: the
message may or may not have left, so it is never sent again by itself (that would risk a
second copy); the next pass marks it ``failed`` with a note and ``newswatch alerts resend``
is there for a person who checks. The window is the length of one SMTP DATA exchange.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import sqlite_utils

from pipelines.config import AlertsConfig, Config
from pipelines.errors import DeliveryError
from pipelines.mail import AlertItem, build_message
from pipelines.store import transaction, utcnow
from pipelines.topics import Topic
from pipelines.transport import MaildirTransport, RecipientsRefused, SmtpTransport

MAX_ATTEMPTS = 5
INTERRUPTED = (
    "interrupted while sending: it may or may not have been delivered, so it is"
    " not resent automatically; use `newswatch alerts resend ID`"
)


class _Taken(Exception):
    """The alerts of a message are no longer pending: someone else is sending them."""


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_ITEM_SQL = """
SELECT alerts.id, alerts.topic, alerts.article_id, articles.url, articles.title,
       articles.source, articles.published, articles.lang, articles.topics
FROM alerts JOIN articles ON articles.id = alerts.article_id
WHERE alerts.status = 'pending' ORDER BY alerts.id
"""


def pending_items(
    db: sqlite_utils.Database,
    topics: Sequence[Topic],
    source_titles: Mapping[str, str] | None = None,
) -> list[AlertItem]:
    """Pending alerts with what an email shows; sources by their configured title."""
    titles = {t.name: (t.title or t.name) for t in topics}
    sources = source_titles or {}
    items = []
    for row in db.execute(_ITEM_SQL).fetchall():
        alert_id, topic, article_id, url, title, source, published, lang, matches = row
        found: list[dict[str, Any]] = json.loads(matches or "[]")
        match = next((m for m in found if m["topic"] == topic), {})
        items.append(
            AlertItem(
                alert_id=alert_id,
                topic=topic,
                topic_title=titles.get(topic, topic),
                article_id=article_id,
                url=url,
                title=title or url,
                source=sources.get(source, source),
                published=published,
                lang=lang,
                score=float(match.get("score", 0.0)),
                terms=match.get("terms", {}),
                snippet=match.get("snippet", ""),
                copies=_copies(db, article_id),
            )
        )
    return items


def _copies(db: sqlite_utils.Database, article_id: int) -> list[str]:
    rows = db.execute(
        "SELECT url FROM articles WHERE duplicate_of = ? AND source != 'seed' ORDER BY id",
        [article_id],
    ).fetchall()
    return [r[0] for r in rows]


def plan_messages(
    items: Sequence[AlertItem], topics: Sequence[Topic], cfg: AlertsConfig
) -> list[tuple[list[AlertItem], list[str]]]:
    """Group items into emails: one per item, or one digest per topic and recipient list."""
    recipients = {t.name: list(t.recipients or cfg.to) for t in topics}
    groups: dict[tuple[str, ...], list[AlertItem]] = {}
    plan = []
    for item in items:
        to = recipients.get(item.topic) or list(cfg.to)
        if cfg.mode == "each":
            plan.append(([item], to))
        else:
            groups.setdefault((item.topic, *to), []).append(item)
    plan += [(group, list(key[1:])) for key, group in groups.items()]
    return plan


def send_pending(
    db: sqlite_utils.Database,
    transport: SmtpTransport | MaildirTransport | None,
    config: Config,
) -> SendReport:
    """Send every pending alert; ``transport=None`` is a dry run (messages are returned)."""
    report = SendReport()
    if transport is not None:
        _fail_interrupted(db)
    cfg, topics = config.alerts, config.topics
    titles = {s.name: s.title or s.name for s in config.sources}
    for items, to in plan_messages(pending_items(db, topics, titles), topics, cfg):
        ids = [i.alert_id for i in items]
        if not to:
            report.pending += len(ids)
            report.errors.append("no recipients: set [alerts] to, or recipients of the topic")
            continue
        msg = build_message(items, sender=cfg.sender, to=to, subject_prefix=cfg.subject_prefix)
        report.messages.append(msg)
        if transport is None:
            continue
        try:
            _deliver(db, transport, msg, ids, to, report)
        except _Taken:
            report.messages.pop()
    return report


def _deliver(
    db: sqlite_utils.Database,
    transport: SmtpTransport | MaildirTransport,
    msg: EmailMessage,
    ids: list[int],
    to: list[str],
    report: SendReport,
) -> None:
    marks = ",".join("?" * len(ids))
    with transaction(db):
        claimed = db.execute(
            f"UPDATE alerts SET status = 'sending', attempts = attempts + 1,"
            f" recipients = ?, message_id = ? WHERE id IN ({marks}) AND status = 'pending'",
            [json.dumps(to), msg["Message-ID"], *ids],
        ).rowcount
        if claimed != len(ids):  # another sender took some of them: leave all to it
            raise _Taken()
    try:
        transport.send(msg)
    except RecipientsRefused as exc:
        if not exc.delivered:
            _put_back(db, ids, str(exc), report)
            return
        # Some recipients got it: a retry would reach them twice. Sent, with the refusal kept.
        _mark_sent(db, ids, str(exc))
        report.sent += len(ids)
        report.errors.append(str(exc))
        return
    except DeliveryError as exc:
        _put_back(db, ids, str(exc), report)
        return
    _mark_sent(db, ids, None)
    report.sent += len(ids)


def _put_back(db: sqlite_utils.Database, ids: list[int], error: str, report: SendReport) -> None:
    marks = ",".join("?" * len(ids))
    with transaction(db):
        db.execute(
            f"UPDATE alerts SET last_error = ?, status = CASE WHEN attempts >= ?"
            f" THEN 'failed' ELSE 'pending' END WHERE id IN ({marks})",
            [error, MAX_ATTEMPTS, *ids],
        )
    report.failed += len(ids)
    report.errors.append(error)


def _mark_sent(db: sqlite_utils.Database, ids: list[int], note: str | None) -> None:
    marks = ",".join("?" * len(ids))
    with transaction(db):
        db.execute(
            f"UPDATE alerts SET status = 'sent', sent_at = ?, last_error = ? WHERE id IN ({marks})",
            [utcnow(), note, *ids],
        )


def _fail_interrupted(db: sqlite_utils.Database) -> None:
    with transaction(db):
        db.execute(
            "UPDATE alerts SET status = 'failed', last_error = ? WHERE status = 'sending'",
            [INTERRUPTED],
        )


def resend(db: sqlite_utils.Database, alert_ids: Sequence[int]) -> int:
    """Put alerts back in the outbox at a person's request; returns how many were found."""
    marks = ",".join("?" * len(alert_ids))
    with transaction(db):
        cur = db.execute(
            f"UPDATE alerts SET status = 'pending', last_error = NULL WHERE id IN ({marks})",
            list(alert_ids),
        )
    return int(cur.rowcount)
