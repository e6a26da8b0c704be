"""Source health: notice a source that silently broke, tell the operator once, and again
when it recovers.

Each pass records per source what it fetched and which errors it met (``runs.sources``).
A pass is *bad* for a source when it met errors that concern the source itself and
yielded no article. After ``[health] failing_passes`` bad passes in a row the source turns
``failing`` and one notice is queued; the first pass that is not bad turns it ``ok`` again
and queues one "recovered" notice. The state change and its notice are written in one
transaction, so a crash can neither lose a notice nor queue it twice.

Notices go through an outbox (``notices``) that behaves like the alert outbox:
``pending`` -> ``sending`` -> ``sent``; a message the server refuses goes back to
``pending`` with the alerts' backoff (``next_attempt_at``) until ``MAX_ATTEMPTS``, then
``failed``; a server that cannot be reached costs no attempt; a row left ``sending`` by a
crash is marked ``failed``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlite_utils

from pipelines.config import Config
from pipelines.mail import sender_domain, set_addresses
from pipelines.outbox import deliver, fail_interrupted
from pipelines.store import insert_row, iso_utc, transaction, utcnow
from pipelines.transport import Transport

# One page gone (remembered, not asked for again) or refused by robots.txt says nothing
# about the source; a refused connection, a timeout, a 5xx or an unreadable feed does.
PAGE_LEVEL_ERRORS = frozenset({"http_404", "http_410", "robots", "not_html"})


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


@dataclass
class NoticeReport:
    sent: int = 0
    failed: int = 0  # gave up on now (MAX_ATTEMPTS reached)
    pending: int = 0  # no operator to send to
    retrying: int = 0  # refused this time, tried again after their backoff
    held: int = 0  # not tried: the server could not be reached
    messages: list[EmailMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def update_health(
    db: sqlite_utils.Database, run_id: int, passes: Sequence[SourcePass], config: Config
) -> list[str]:
    """Record one pass; returns the notices queued, as ``"source kind"`` strings."""
    queued = []
    for p in passes:
        with transaction(db):
            kind = _step(db, run_id, p, config.health.failing_passes)
            if kind is not None:
                detail = json.dumps({"errors": p.trouble}, sort_keys=True)
                insert_row(
                    db,
                    "notices",
                    {
                        "source": p.name,
                        "kind": kind,
                        "run_id": run_id,
                        "detail": detail,
                        "created_at": utcnow(),
                        "status": "pending",
                        "attempts": 0,
                    },
                )
                queued.append(f"{p.name} {kind}")
    return queued


def _step(db: sqlite_utils.Database, run_id: int, p: SourcePass, limit: int) -> str | None:
    """Move one source's state; returns the notice kind to queue, if any."""
    row = db.execute(
        "SELECT state, bad_passes, since FROM source_health WHERE source = ?", [p.name]
    ).fetchone()
    state, bad_passes, since = row if row else ("ok", 0, None)
    now = utcnow()
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
    db.execute(
        "INSERT OR REPLACE INTO source_health (source, state, bad_passes, since, last_run_id,"
        " last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [p.name, state, bad_passes, since, run_id, error, now],
    )
    return notice


def health_states(db: sqlite_utils.Database) -> dict[str, dict[str, object]]:
    return {r["source"]: r for r in db.query("SELECT * FROM source_health")}


def build_notice(
    row: Mapping[str, object], config: Config, to: Sequence[str], now: datetime | None = None
) -> EmailMessage:
    """A plain UTF-8 email about one source turning failing or recovering."""
    source = str(row["source"])
    titles = {s.name: s.title or s.name for s in config.sources}
    title = titles.get(source, source)
    errors: dict[str, int] = json.loads(str(row["detail"] or "{}")).get("errors", {})
    listed = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none"
    passes = config.health.failing_passes
    if row["kind"] == "failing":
        subject = f"source {source} is failing"
        text = (
            f"The source {title} ({source}) has met errors and yielded no article in"
            f" {passes} pass(es) in a row.\n\nErrors in the latest pass (run {row['run_id']}):"
            f" {listed}\n\nYou will get one more email when it works again. Details:\n"
            f"    newswatch sources status\n    newswatch sources check {source}\n"
        )
    else:
        subject = f"source {source} has recovered"
        text = (
            f"The source {title} ({source}) works again: run {row['run_id']} read it"
            " without errors, or found articles.\n"
        )
    msg = EmailMessage()
    msg["Subject"] = f"{config.alerts.subject_prefix} {subject}"
    set_addresses(msg, "From", [config.alerts.sender])
    set_addresses(msg, "To", to)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    domain = sender_domain(config.alerts.sender)
    msg["Message-ID"] = make_msgid(f"newswatch.notice-{row['id']}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, charset="utf-8")
    return msg


def send_notices(
    db: sqlite_utils.Database,
    transport: Transport | None,
    config: Config,
    *,
    ignore_backoff: bool = False,
    now: datetime | None = None,
) -> NoticeReport:
    """Send every pending notice that is due; ``transport=None`` is a dry run (messages
    are returned, nothing changes)."""
    report = NoticeReport()
    to = list(config.health.operator or config.alerts.to)
    if transport is not None:
        fail_interrupted(db, "notices")
    moment = iso_utc(now or datetime.now(UTC))
    due = None if ignore_backoff else moment
    rows = list(
        db.query(
            "SELECT * FROM notices WHERE status = 'pending' AND (? IS NULL"
            " OR next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            [due, due],
        )
    )
    for number, row in enumerate(rows):
        if not to:
            report.pending += 1
            report.errors.append("no operator: set [health] operator or [alerts] to")
            continue
        msg = build_notice(row, config, to)
        report.messages.append(msg)
        if transport is None:
            continue
        delivery = deliver(db, "notices", transport, msg, [int(row["id"])], to, report, moment)
        if delivery == "taken":  # another sender holds it
            report.messages.pop()
        elif delivery == "unreachable":  # the server is down: the rest waits
            report.held += len(rows) - number - 1
            break
    return report
