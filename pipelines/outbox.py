"""The outbox state machine shared by alert emails (``alerts``) and operator notices
(``notices``).

A row goes ``pending`` -> ``sending`` -> ``sent``. ``sending`` is committed only once the
SMTP session is up (connect, TLS, login), right before MAIL/RCPT/DATA: a server that cannot
be reached costs no attempt and the row stays ``pending``. A message the server refuses
goes back to ``pending`` with a backoff (``next_attempt_at``), or to ``failed`` after
``MAX_ATTEMPTS``. A row a crashed pass left ``sending`` may or may not have been delivered:
it becomes ``failed`` and is never resent on its own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal, Protocol

import sqlite_utils

from pipelines.errors import DeliveryError
from pipelines.store import iso_utc, transaction, utcnow
from pipelines.transport import RecipientsRefused, Transport

MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
INTERRUPTED = "interrupted while sending: it may or may not have been delivered"

Delivery = Literal["done", "taken", "unreachable"]


class Tally(Protocol):
    """The counters a send step keeps (SendReport, NoticeReport)."""

    sent: int
    failed: int
    retrying: int
    held: int
    errors: list[str]


class _Taken(Exception):
    """The rows are no longer pending: another sender took them."""


def backoff(attempts: int) -> timedelta:
    """How long a message refused ``attempts`` times waits: 5 min, doubling, at most 6 h."""
    wait: timedelta = BACKOFF_FIRST * 2 ** max(attempts - 1, 0)
    return min(wait, BACKOFF_MAX)


def fail_interrupted(db: sqlite_utils.Database, table: str, note: str = INTERRUPTED) -> list[int]:
    """Mark the rows a dead pass left ``sending`` as failed with ``note``; their ids."""
    with transaction(db):
        ids = [int(r[0]) for r in db.execute(f"SELECT id FROM {table} WHERE status = 'sending'")]
        db.execute(
            f"UPDATE {table} SET status = 'failed', last_error = ? WHERE status = 'sending'",
            [note],
        )
    return ids


def deliver(
    db: sqlite_utils.Database,
    table: str,
    transport: Transport,
    msg: EmailMessage,
    ids: list[int],
    to: list[str],
    report: Tally,
    moment: str,
) -> Delivery:
    """Send one message for the rows ``ids`` and record the outcome.

    "unreachable": the server could not be reached, nothing was charged (the caller
    leaves the rest of the outbox for the next pass); "taken": another sender holds some
    of the rows; "done": sent, refused or given up, as recorded.
    """
    marks = ",".join("?" * len(ids))
    claimed = False

    def claim() -> None:
        # Called by the transport once the session is up, right before MAIL/RCPT/DATA.
        nonlocal claimed
        with transaction(db):
            count = db.execute(
                f"UPDATE {table} SET status = 'sending', attempts = attempts + 1,"
                f" recipients = ?, message_id = ? WHERE id IN ({marks}) AND status = 'pending'",
                [json.dumps(to), msg["Message-ID"], *ids],
            ).rowcount
            if count != len(ids):  # another sender took some of them: leave all to it
                raise _Taken()
        claimed = True

    try:
        transport.send(msg, before_data=claim)
    except _Taken:
        return "taken"
    except RecipientsRefused as exc:
        if exc.delivered:
            # Some recipients got it: a retry would reach them twice. Sent, refusal kept.
            _mark_sent(db, table, ids, str(exc))
            report.sent += len(ids)
            report.errors.append(str(exc))
        else:
            _put_back(db, table, ids, str(exc), report, moment)
        return "done"
    except DeliveryError as exc:
        if not claimed:
            _hold(db, table, ids, str(exc), report)
            return "unreachable"
        _put_back(db, table, ids, str(exc), report, moment)
        return "done"
    _mark_sent(db, table, ids, None)
    report.sent += len(ids)
    return "done"


def _hold(db: sqlite_utils.Database, table: str, ids: list[int], error: str, report: Tally) -> None:
    """The server was not reached: the rows stay pending, with the reason, at no cost."""
    marks = ",".join("?" * len(ids))
    with transaction(db):
        db.execute(f"UPDATE {table} SET last_error = ? WHERE id IN ({marks})", [error, *ids])
    report.held += len(ids)
    report.errors.append(error)


def _put_back(
    db: sqlite_utils.Database,
    table: str,
    ids: list[int],
    error: str,
    report: Tally,
    moment: str,
) -> None:
    """The server refused the message: back to pending after a backoff, or failed."""
    with transaction(db):
        for row_id in ids:
            row = db.execute(f"SELECT attempts FROM {table} WHERE id = ?", [row_id]).fetchone()
            attempts = int(row[0]) if row else MAX_ATTEMPTS
            gave_up = attempts >= MAX_ATTEMPTS
            due = iso_utc(datetime.fromisoformat(moment) + backoff(attempts))
            db.execute(
                f"UPDATE {table} SET status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                ["failed" if gave_up else "pending", error, None if gave_up else due, row_id],
            )
            if gave_up:
                report.failed += 1
            else:
                report.retrying += 1
    report.errors.append(error)


def _mark_sent(db: sqlite_utils.Database, table: str, ids: list[int], note: str | None) -> None:
    marks = ",".join("?" * len(ids))
    with transaction(db):
        db.execute(
            f"UPDATE {table} SET status = 'sent', sent_at = ?, last_error = ?,"
            f" next_attempt_at = NULL WHERE id IN ({marks})",
            [utcnow(), note, *ids],
        )
