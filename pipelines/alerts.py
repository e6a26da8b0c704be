"""The outbox: alert rows written with their article, sent in a separate step.

States: ``pending`` -> ``sending`` -> ``sent``. A message the server refuses puts its rows
back to ``pending`` with ``attempts``, ``last_error`` and ``next_attempt_at`` (exponential
backoff: 5 min, 10, 20, ... capped at 6 h) until ``MAX_ATTEMPTS``, then ``failed``. A pass
retries only rows whose time has come; ``newswatch alerts send --now`` ignores the wait.
A server that cannot be reached (or refuses our login) is not the message's fault: nothing
is counted against the alerts, the rest of the outbox waits, and the next pass sends.

Exactly once: the connection is opened, greeted, upgraded to TLS and logged in first; only
then are the message's rows marked ``sending`` and committed, one transaction per message,
and ``sent`` is committed right after the server accepts the DATA. SMTP itself leaves a
window no client can close: the server may have accepted the message when we die before
committing ``sent``. Here that window is the MAIL/RCPT/DATA exchange of one message plus
one SQLite commit. A crash inside it leaves ``sending``: the message may or may not have
left, so it is never sent again by itself (that would risk a second copy); the next pass
marks it ``failed`` with a note and ``newswatch alerts resend ID`` is there for a person
who checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import sqlite_utils

from pipelines.config import AlertsConfig, Config
from pipelines.mail import AlertItem, build_message
from pipelines.outbox import deliver, fail_interrupted
from pipelines.store import iso_utc, transaction
from pipelines.topics import Topic
from pipelines.transport import MaildirTransport, SmtpTransport

INTERRUPTED = (
    "interrupted while sending: it may or may not have been delivered, so it is"
    " not resent automatically; use `newswatch alerts resend ID`"
)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # gave up on now (MAX_ATTEMPTS reached)
    pending: int = 0  # no recipients
    retrying: int = 0  # refused this time, tried again after their backoff
    held: int = 0  # not tried: the server could not be reached
    waiting: int = 0  # not tried: their backoff has not run out
    failed_total: int = 0  # rows in the outbox that are 'failed', from any pass
    interrupted: int = 0  # left 'sending' by a pass that died: now 'failed', not resent
    next_attempt_at: str | None = None  # the earliest retry time among pending rows
    messages: list[EmailMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def undelivered(self) -> bool:
        """Something this send should have delivered did not go out."""
        return bool(self.failed or self.retrying or self.held)


@dataclass(frozen=True)
class PlannedMessage:
    items: list[AlertItem]
    to: list[str]
    page: tuple[int, int] | None = None  # (n, of) for a digest split into pages


_ITEM_SQL = """
SELECT alerts.id, alerts.topic, alerts.article_id, articles.url, articles.title,
       articles.source, articles.published, articles.lang, articles.topics
FROM alerts JOIN articles ON articles.id = alerts.article_id
WHERE alerts.status = 'pending' AND (? IS NULL OR alerts.next_attempt_at IS NULL
      OR alerts.next_attempt_at <= ?)
ORDER BY alerts.id
"""


def pending_items(
    db: sqlite_utils.Database,
    topics: Sequence[Topic],
    source_titles: Mapping[str, str] | None = None,
    *,
    due_at: str | None = None,
) -> list[AlertItem]:
    """Pending alerts with what an email shows; sources by their configured title.

    With ``due_at``, only alerts whose backoff has run out by then; without, all of them.
    """
    titles = {t.name: (t.title or t.name) for t in topics}
    sources = source_titles or {}
    items = []
    for row in db.execute(_ITEM_SQL, [due_at, due_at]).fetchall():
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
) -> list[PlannedMessage]:
    """Group items into emails.

    ``each``: one email per item, up to ``max_per_pass``; the items beyond go in one digest
    per recipient list, so a flood (a new source, a busy news day) is a few emails, not a
    hundred. ``digest``: one email per topic and recipient list. A digest longer than
    ``max_items_per_email`` is split into pages.
    """
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


def send_pending(
    db: sqlite_utils.Database,
    transport: SmtpTransport | MaildirTransport | None,
    config: Config,
    *,
    ignore_backoff: bool = False,
    now: datetime | None = None,
) -> SendReport:
    """Send every pending alert that is due; ``transport=None`` is a dry run.

    A dry run changes nothing in the database and returns the messages it would send.
    """
    report = SendReport()
    if transport is not None:
        _fail_interrupted(db, report)
    moment = iso_utc(now or datetime.now(UTC))
    due_at = None if ignore_backoff else moment
    if not ignore_backoff:
        report.waiting = _count(db, "status = 'pending' AND next_attempt_at > ?", moment)
    cfg, topics = config.alerts, config.topics
    titles = {s.name: s.title or s.name for s in config.sources}
    plan = plan_messages(pending_items(db, topics, titles, due_at=due_at), topics, cfg)
    for number, planned in enumerate(plan):
        ids = [i.alert_id for i in planned.items]
        if not planned.to:
            report.pending += len(ids)
            report.errors.append("no recipients: set [alerts] to, or recipients of the topic")
            continue
        msg = build_message(
            planned.items,
            sender=cfg.sender,
            to=planned.to,
            subject_prefix=cfg.subject_prefix,
            subject_template=cfg.subject,
            page=planned.page,
        )
        report.messages.append(msg)
        if transport is None:
            continue
        delivery = deliver(db, "alerts", transport, msg, ids, planned.to, report, moment)
        if delivery == "taken":  # another sender holds these alerts
            report.messages.pop()
        elif delivery == "unreachable":  # the server is down: the rest waits for the next pass
            report.held += sum(len(p.items) for p in plan[number + 1 :])
            break
    report.next_attempt_at = db.execute(
        "SELECT min(next_attempt_at) FROM alerts WHERE status = 'pending'"
    ).fetchone()[0]
    report.failed_total = _count(db, "status = 'failed'")
    return report


def _fail_interrupted(db: sqlite_utils.Database, report: SendReport) -> None:
    ids = fail_interrupted(db, "alerts", INTERRUPTED)
    if ids:
        report.interrupted = len(ids)
        listed = " ".join(str(i) for i in ids)
        report.errors.append(f"alert(s) {listed}: {INTERRUPTED}")


def _count(db: sqlite_utils.Database, where: str, *params: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM alerts WHERE {where}", params).fetchone()[0])


def resend(db: sqlite_utils.Database, alert_ids: Sequence[int]) -> int:
    """Put alerts back in the outbox at a person's request, with a fresh count of attempts;
    returns how many were found."""
    marks = ",".join("?" * len(alert_ids))
    with transaction(db):
        cur = db.execute(
            f"UPDATE alerts SET status = 'pending', attempts = 0, last_error = NULL,"
            f" next_attempt_at = NULL WHERE id IN ({marks})",
            list(alert_ids),
        )
    return int(cur.rowcount)
