"""The outbox: alert and notice rows, and their delivery state per channel.

``deliveries`` holds one row per (item, channel): ``pending`` -> ``sending`` -> ``sent``,
or ``failed``. The ``alerts`` and ``notices`` rows keep ``status``, ``attempts``,
``next_attempt_at``, ``sent_at``, ``last_error``, ``recipients`` and ``message_id`` as the
summary over their channels (docs/dataset.md), rewritten in the same transaction as every
change of a delivery, so that a reader of the file never sees them disagree.

An item queued after the last send has no delivery row yet: its own row is its state, and
a send first opens one delivery row per enabled channel for every pending item
(:meth:`OutboxOps.open_deliveries`). A channel enabled later is opened for the items still
pending, never for those already sent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase

TABLES = {"alert": "alerts", "notice": "notices"}

# Each (item, channel)'s state, whether or not its delivery row exists yet: an item without
# any delivery row is in its own row's state; a channel added to an item that has rows
# starts afresh. Only items whose summary is pending or sending can have a pending delivery
# (see _SUMMARY), which keeps the scan on the status index.
_STATE = """
SELECT x.id AS item_id,
       CASE WHEN d.id IS NOT NULL THEN d.status
            WHEN x.status = 'pending' THEN 'pending' END AS status,
       CASE WHEN d.id IS NOT NULL THEN d.next_attempt_at
            WHEN EXISTS (SELECT 1 FROM deliveries e WHERE e.kind = :kind AND e.item_id = x.id)
            THEN NULL ELSE x.next_attempt_at END AS next_attempt_at,
       d.id AS delivery_id
FROM {table} x LEFT JOIN deliveries d
  ON d.kind = :kind AND d.item_id = x.id AND d.channel = :channel
WHERE x.status IN ('pending', 'sending')
"""
_DUE = (
    "s.status = 'pending'"
    " AND (:due IS NULL OR s.next_attempt_at IS NULL OR s.next_attempt_at <= :due)"
)

_SUMMARY = """
UPDATE {table} SET
  status = (SELECT CASE WHEN sum(d.status = 'sending') > 0 THEN 'sending'
                        WHEN sum(d.status = 'pending') > 0 THEN 'pending'
                        WHEN sum(d.status = 'failed') > 0 THEN 'failed' ELSE 'sent' END
            {rows}),
  attempts = (SELECT max(d.attempts) {rows}),
  next_attempt_at = (SELECT min(d.next_attempt_at) {rows}),
  sent_at = (SELECT max(d.sent_at) {rows}),
  last_error = (SELECT CASE WHEN count(*) = 1 THEN max(d.last_error)
                       ELSE group_concat(d.channel || ': ' || d.last_error, '; ') END {rows}),
  recipients = (SELECT CASE WHEN count(*) = 1 THEN max(d.recipients)
                       ELSE (SELECT json_group_array(v) FROM (SELECT DISTINCT j.value AS v
                             FROM deliveries e, json_each(coalesce(e.recipients, '[]')) j
                             WHERE e.kind = :kind AND e.item_id = {table}.id)) END {rows}),
  message_id = (SELECT d.message_id {rows} AND d.message_id IS NOT NULL ORDER BY d.id LIMIT 1)
WHERE id IN ({marks})
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.kind = :kind AND d.item_id = {table}.id)
"""
_ROWS = "FROM deliveries d WHERE d.kind = :kind AND d.item_id = {table}.id"


@dataclass(frozen=True)
class PendingAlert:
    """A due alert with the fields of its article that a message shows."""

    alert_id: int
    topic: str
    article_id: int
    url: str
    title: str | None
    source: str
    published: str | None
    lang: str | None
    matches: list[dict[str, Any]]  # the article's topic matches (articles.topics)
    relevant: bool = True  # articles.relevant: false for an "also covered" article


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts the outbox reads now (set by the sender with :meth:`OutboxOps.filtering`).

    ``skip_topics``: per channel, the topics whose ``channels`` leave it out (no delivery is
    opened there); ``queued_before``: a digest rhythm's latest slot, only alerts queued up
    to it are due ("" for none yet); ``only_ids``: these alerts whatever their state
    (``alerts preview ID``).
    """

    skip_topics: Mapping[str, frozenset[str]] = field(default_factory=dict)
    queued_before: str | None = None
    only_ids: tuple[int, ...] | None = None


class _Taken(Exception):
    """Some of the deliveries are no longer pending: another sender took them."""


class OutboxOps(StoreBase):
    """Operations on ``alerts``, ``notices`` and their ``deliveries``."""

    alert_filter: AlertFilter = AlertFilter()

    @contextlib.contextmanager
    def filtering(self, chosen: AlertFilter) -> Iterator[None]:
        """Alerts are read through ``chosen`` inside this block."""
        previous, self.alert_filter = self.alert_filter, chosen
        try:
            yield
        finally:
            self.alert_filter = previous

    def _alert_conditions(self, channel: str, params: dict[str, Any], alias: str) -> str:
        """SQL conditions (on the alerts row ``alias``) of the current filter for ``channel``."""
        conditions = ""
        skipped = sorted(self.alert_filter.skip_topics.get(channel, ()))
        for n, topic in enumerate(skipped):
            params[f"skip{n}"] = topic
        if skipped:
            marks = ",".join(f":skip{n}" for n in range(len(skipped)))
            conditions += f" AND {alias}.topic NOT IN ({marks})"
        if self.alert_filter.queued_before is not None:
            params["queued_before"] = self.alert_filter.queued_before
            conditions += f" AND {alias}.created_at <= :queued_before"
        return conditions

    def queue_notice(self, *, source: str, kind: str, run_id: int, detail: str) -> int:
        """Queue one operator notice (``failing`` or ``recovered``); returns its id."""
        cursor = self.db.execute(
            "INSERT INTO notices (source, kind, run_id, detail, created_at, status, attempts)"
            " VALUES (?, ?, ?, ?, ?, 'pending', 0)",
            [source, kind, run_id, detail, utcnow()],
        )
        assert isinstance(cursor.lastrowid, int)
        return cursor.lastrowid

    def open_deliveries(self, kind: str, channels: Sequence[str]) -> None:
        """One delivery row per channel for every pending item that lacks it. An item with
        no delivery row at all carries its own row's state (attempts, backoff, error) into
        the first; a channel added to an item that has rows starts afresh."""
        table = TABLES[kind]
        with self.transaction():
            for channel in channels:
                params: dict[str, Any] = {"kind": kind, "channel": channel}
                skipped = ""
                if kind == "alert" and self.alert_filter.skip_topics.get(channel):
                    topics = sorted(self.alert_filter.skip_topics[channel])
                    params.update({f"skip{n}": t for n, t in enumerate(topics)})
                    marks = ",".join(f":skip{n}" for n in range(len(topics)))
                    skipped = f" AND x.topic NOT IN ({marks})"
                self.db.execute(
                    "INSERT OR IGNORE INTO deliveries (kind, item_id, channel, status, attempts,"
                    " next_attempt_at, last_error) SELECT :kind, x.id, :channel, 'pending',"
                    " CASE WHEN o.item_id IS NULL THEN coalesce(x.attempts, 0) ELSE 0 END,"
                    " CASE WHEN o.item_id IS NULL THEN x.next_attempt_at END,"
                    " CASE WHEN o.item_id IS NULL THEN x.last_error END"
                    f" FROM {table} x LEFT JOIN (SELECT DISTINCT item_id FROM deliveries"
                    " WHERE kind = :kind) o ON o.item_id = x.id WHERE x.status = 'pending'"
                    + skipped,
                    params,
                )

    def due_alerts(self, channel: str, due_at: str | None) -> list[PendingAlert]:
        """Pending alerts due on ``channel`` (all pending ones without ``due_at``), in order,
        as the current :class:`AlertFilter` allows."""
        only = self.alert_filter.only_ids
        params: dict[str, Any] = {"kind": "alert", "channel": channel, "due": due_at}
        select = (
            "SELECT a.id, a.topic, a.article_id, ar.url, ar.title, ar.source, ar.published,"
            " ar.lang, ar.topics, ar.relevant"
        )
        if only is not None:
            params.update({f"id{n}": i for n, i in enumerate(only)})
            marks = ",".join(f":id{n}" for n in range(len(only))) or "NULL"
            sql = (
                f"{select} FROM alerts a JOIN articles ar ON ar.id = a.article_id"
                f" WHERE a.id IN ({marks}) ORDER BY a.id"
            )
        else:
            sql = (
                f"{select} FROM ({_STATE.format(table='alerts')}) s"
                " JOIN alerts a ON a.id = s.item_id JOIN articles ar ON ar.id = a.article_id"
                f" WHERE {_DUE}{self._alert_conditions(channel, params, 'a')} ORDER BY a.id"
            )
        return [
            PendingAlert(
                alert_id=int(r[0]),
                topic=str(r[1]),
                article_id=int(r[2]),
                url=str(r[3]),
                title=r[4],
                source=str(r[5]),
                published=r[6],
                lang=r[7],
                matches=json.loads(r[8] or "[]"),
                relevant=bool(r[9]),
            )
            for r in self.db.execute(sql, params).fetchall()
        ]

    def due_notices(self, channel: str, due_at: str | None) -> list[dict[str, Any]]:
        """Pending notices due on ``channel`` (all pending ones without ``due_at``), in order."""
        return list(
            self.db.query(
                f"SELECT n.* FROM ({_STATE.format(table='notices')}) s"
                f" JOIN notices n ON n.id = s.item_id WHERE {_DUE} ORDER BY n.id",
                {"kind": "notice", "channel": channel, "due": due_at},
            )
        )

    def article_copies(self, article_id: int) -> list[str]:
        """URLs of the same article found at other sites (its duplicates), oldest first."""
        rows = self.db.execute(
            "SELECT url FROM articles WHERE duplicate_of = ? AND source != 'seed' ORDER BY id",
            [article_id],
        )
        return [str(r[0]) for r in rows]

    def count_waiting(self, kind: str, channel: str, moment: str) -> int:
        """Pending deliveries on ``channel`` whose backoff runs past ``moment``."""
        row = self.db.execute(
            f"SELECT count(*) FROM ({_STATE.format(table=TABLES[kind])}) s"
            " WHERE s.status = 'pending' AND s.next_attempt_at > :moment",
            {"kind": kind, "channel": channel, "moment": moment},
        ).fetchone()
        return int(row[0])

    def next_attempt_at(self, kind: str) -> str | None:
        """The earliest retry time among pending items."""
        row = self.db.execute(
            f"SELECT min(next_attempt_at) FROM {TABLES[kind]} WHERE status = 'pending'"
        ).fetchone()
        return None if row[0] is None else str(row[0])

    def count_failed(self, kind: str) -> int:
        """Items that are ``failed`` in the outbox, from any pass."""
        row = self.db.execute(
            f"SELECT count(*) FROM {TABLES[kind]} WHERE status = 'failed'"
        ).fetchone()
        return int(row[0])

    def fail_interrupted(self, kind: str, note: str) -> list[int]:
        """Deliveries a dead pass left ``sending`` become ``failed`` with ``note``; the ids
        of their items. Whether they left is unknown, so they are never resent on their own."""
        with self.transaction():
            ids = sorted(
                {
                    int(r[0])
                    for r in self.db.execute(
                        "SELECT item_id FROM deliveries WHERE kind = ? AND status = 'sending'",
                        [kind],
                    )
                }
            )
            self.db.execute(
                "UPDATE deliveries SET status = 'failed', last_error = ?"
                " WHERE kind = ? AND status = 'sending'",
                [note, kind],
            )
            self._summarise(kind, ids)
        return ids

    def claim(
        self, kind: str, ids: Sequence[int], channel: str, recipients: Sequence[str], msg_id: str
    ) -> bool:
        """Mark the deliveries ``sending`` (one more attempt) and commit; False, changing
        nothing, when another sender took any of them."""
        try:
            with self.transaction():
                count = self.db.execute(
                    "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                    f" recipients = ?, message_id = ? WHERE {_these(ids)} AND status = 'pending'",
                    [json.dumps(list(recipients)), msg_id, kind, channel, *ids],
                ).rowcount
                if count != len(ids):
                    raise _Taken()
                self._summarise(kind, ids)
        except _Taken:
            return False
        return True

    def mark_sent(self, kind: str, ids: Sequence[int], channel: str, note: str | None) -> None:
        """Delivered (``note``: a partial refusal worth keeping)."""
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = ?,"
                f" next_attempt_at = NULL WHERE {_these(ids)}",
                [utcnow(), note, kind, channel, *ids],
            )
            self._summarise(kind, ids)

    def hold(self, kind: str, ids: Sequence[int], channel: str, error: str) -> None:
        """Not reached: the deliveries stay pending, with the reason, at no cost."""
        with self.transaction():
            self.db.execute(
                f"UPDATE deliveries SET last_error = ? WHERE {_these(ids)}",
                [error, kind, channel, *ids],
            )
            self._summarise(kind, ids)

    def put_back(
        self,
        kind: str,
        ids: Sequence[int],
        channel: str,
        error: str,
        retry_at: Callable[[int], str | None],
    ) -> tuple[int, int]:
        """Refused: back to ``pending`` until ``retry_at(attempts)``, or ``failed`` when it
        says None. Returns (retrying, failed)."""
        retrying = failed = 0
        with self.transaction():
            for item_id in ids:
                row = self.db.execute(
                    f"SELECT attempts FROM deliveries WHERE {_these([item_id])}",
                    [kind, channel, item_id],
                ).fetchone()
                due = retry_at(int(row[0]) if row else 0)
                self.db.execute(
                    "UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = ?"
                    f" WHERE {_these([item_id])}",
                    ["failed" if due is None else "pending", error, due, kind, channel, item_id],
                )
                retrying, failed = retrying + (due is not None), failed + (due is None)
            self._summarise(kind, ids)
        return retrying, failed

    def unknown_alert_ids(self, alert_ids: Sequence[int]) -> list[int]:
        """Those of ``alert_ids`` that name no alert, in the order given."""
        marks = ",".join("?" * len(alert_ids))
        sql = f"SELECT id FROM alerts WHERE id IN ({marks})"
        known = {int(row["id"]) for row in self.db.query(sql, list(alert_ids))}
        return [i for i in dict.fromkeys(alert_ids) if i not in known]

    def resend_alerts(self, alert_ids: Sequence[int]) -> int:
        """Put alerts back in the outbox on every channel, with a fresh count of attempts;
        returns how many were found."""
        marks = ",".join("?" * len(alert_ids))
        reset = "status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = NULL"
        with self.transaction():
            self.db.execute(
                f"UPDATE deliveries SET {reset} WHERE kind = 'alert' AND item_id IN ({marks})",
                list(alert_ids),
            )
            found = self.db.execute(
                f"UPDATE alerts SET {reset} WHERE id IN ({marks})", list(alert_ids)
            ).rowcount
            self._summarise("alert", alert_ids)
        return int(found)

    def alert_rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Alerts with their article and delivery state, for ``newswatch alerts list``."""
        sql = (
            "SELECT alerts.id, alerts.topic, alerts.status, alerts.attempts, alerts.created_at,"
            " alerts.sent_at, alerts.next_attempt_at, alerts.last_error,"
            " articles.id AS article_id, articles.source,"
            " articles.lang, articles.published, articles.title, articles.url"
            " FROM alerts JOIN articles ON articles.id = alerts.article_id"
            + (" WHERE alerts.status = ?" if status else "")
            + " ORDER BY alerts.id"
        )
        return [dict(r) for r in self.db.query(sql, [status] if status else [])]

    def deliveries(self, kind: str, item_id: int) -> dict[str, Mapping[str, Any]]:
        """An item's delivery rows, by channel."""
        rows = self.db.query(
            "SELECT * FROM deliveries WHERE kind = ? AND item_id = ? ORDER BY id", [kind, item_id]
        )
        return {str(r["channel"]): r for r in rows}

    def _summarise(self, kind: str, ids: Sequence[int]) -> None:
        """Rewrite the items' own rows as the summary over their deliveries."""
        if not ids:
            return
        table = TABLES[kind]
        rows = _ROWS.format(table=table)
        marks = ",".join(f":id{n}" for n in range(len(ids)))
        params: dict[str, object] = {f"id{n}": item_id for n, item_id in enumerate(ids)}
        self.db.execute(
            _SUMMARY.format(table=table, rows=rows, marks=marks), {"kind": kind, **params}
        )


def _these(ids: Sequence[int]) -> str:
    """Deliveries of ``ids`` on one channel: parameters kind, channel, then the ids."""
    return f"kind = ? AND channel = ? AND item_id IN ({','.join('?' * len(ids))})"
