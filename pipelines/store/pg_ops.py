"""PostgreSQL's own SQL for the operations that differ in more than syntax.

:class:`PostgresOps` comes before the shared mixins in :class:`PostgresStore`, so these are
the ones called there; the connection that translates the shared statements is
:class:`pipelines.store.postgres.PgDatabase`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import cast

import sqlite_utils

from pipelines.store import Store
from pipelines.store.base import StoreBase
from pipelines.store.outbox import TABLES, _Taken, _these
from pipelines.store.postgres import PgDatabase

_SUMMARY = """
UPDATE {table} SET
  status = (SELECT CASE WHEN count(*) FILTER (WHERE d.status = 'sending') > 0 THEN 'sending'
                        WHEN count(*) FILTER (WHERE d.status = 'pending') > 0 THEN 'pending'
                        WHEN count(*) FILTER (WHERE d.status = 'failed') > 0 THEN 'failed'
                        ELSE 'sent' END {rows}),
  attempts = (SELECT max(d.attempts) {rows}),
  next_attempt_at = (SELECT min(d.next_attempt_at) {rows}),
  sent_at = (SELECT max(d.sent_at) {rows}),
  last_error = (SELECT CASE WHEN count(*) = 1 THEN max(d.last_error)
                       ELSE string_agg(d.channel || ': ' || d.last_error, '; ' ORDER BY d.id)
                       END {rows}),
  recipients = (SELECT CASE WHEN count(*) = 1 THEN max(d.recipients)
                       ELSE (SELECT CAST(json_agg(v ORDER BY v) AS text) FROM (SELECT DISTINCT
                             j AS v FROM deliveries e, json_array_elements_text(
                             CAST(coalesce(e.recipients, '[]') AS json)) j
                             WHERE e.kind = :kind AND e.item_id = {table}.id) x) END {rows}),
  message_id = (SELECT d.message_id {rows} AND d.message_id IS NOT NULL ORDER BY d.id LIMIT 1)
WHERE id = ANY(:ids)
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.kind = :kind AND d.item_id = {table}.id)
"""
_ROWS = "FROM deliveries d WHERE d.kind = :kind AND d.item_id = {table}.id"


class PostgresOps(StoreBase):
    """The operations whose SQL differs on PostgreSQL in more than syntax. Listed before
    the shared mixins in :class:`PostgresStore`, so these are the ones called."""

    # Fragments the shared operations format into their SQL (SQLite's are in each mixin).
    TOPIC_IN = (
        "EXISTS (SELECT 1 FROM json_array_elements(CAST(coalesce({column}, '[]') AS json)) m"
        " WHERE m->>'topic' IN ({marks}))"
    )
    FEATURES_WITHOUT_TERMS = "CAST(CAST(features AS jsonb) - 'terms' AS text)"
    LINK_ORDER = "l.article_id"
    FOR_UPDATE = " FOR UPDATE"

    @property
    def pg(self) -> PgDatabase:
        return cast(PgDatabase, self.db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.pg.transaction():
            yield

    def sync_at_checkpoints(self) -> None:
        """Commits on this connection no longer wait for the server's disk: the crawl's
        article writes (``synchronous_commit = off``: a crash of the server may take back
        the last commits, never corrupt the dataset)."""
        self.db.execute("SET synchronous_commit TO off")

    def lock_url_keys(self, keys: Iterable[str]) -> None:
        """Transaction-level advisory locks on the keys, in one order (no deadlock): two
        crawls storing one page at once (Scrapyd jobs) take turns, and the second finds
        the first's row (``pipelines/process.py``)."""
        for key in sorted(set(keys)):
            self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [key])

    def column_names(self, table: str) -> set[str]:
        return set(self.pg.columns(table))

    def table_names(self) -> set[str]:
        return set(self.pg.table_names()) | set(self.pg.view_names())

    def update_article(self, article_id: int, changes: Mapping[str, object]) -> None:
        names = list(changes)
        if not names:
            return
        self.db.execute(
            f"UPDATE articles SET {', '.join(f'[{n}] = ?' for n in names)} WHERE id = ?",
            [*(sqlite_utils.db.jsonify_if_needed(changes[n]) for n in names), article_id],
        )

    def common_shingles(self, hashes: Iterable[int], max_documents: int) -> set[int]:
        return {
            int(row[0])
            for row in self.db.execute(
                "SELECT h FROM unnest(CAST(? AS bigint[])) h WHERE (SELECT count(*) FROM"
                " (SELECT 1 FROM shingles WHERE hash = h LIMIT ?) x) > ?",
                [sorted(hashes), max_documents + 1, max_documents],
            )
        }

    def shared_shingle_counts(
        self, hashes: Iterable[int], *, exclude_id: int | None = None
    ) -> list[tuple[int, int]]:
        rows = self.db.execute(
            "SELECT article_id, count(*) FROM shingles WHERE hash = ANY(CAST(? AS bigint[]))"
            " AND article_id IS NOT ? GROUP BY article_id",
            [sorted(hashes), exclude_id],
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]

    def claim(
        self, kind: str, ids: Sequence[int], channel: str, recipients: Sequence[str], msg_id: str
    ) -> bool:
        """As on SQLite; the rows are locked first with ``FOR UPDATE SKIP LOCKED``: a row
        another sender is claiming is skipped (not waited for), so this claim fails."""
        try:
            with self.transaction():
                free = self.db.execute(
                    f"SELECT item_id FROM deliveries WHERE {_these(ids)} AND status = 'pending'"
                    " FOR UPDATE SKIP LOCKED",
                    [kind, channel, *ids],
                ).fetchall()
                if len(free) != len(ids):
                    raise _Taken()
                self.db.execute(
                    "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,"
                    f" recipients = ?, message_id = ? WHERE {_these(ids)} AND status = 'pending'",
                    [json.dumps(list(recipients)), msg_id, kind, channel, *ids],
                )
                self._summarise(kind, ids)
        except _Taken:
            return False
        return True

    def _summarise(self, kind: str, ids: Sequence[int]) -> None:
        if not ids:
            return
        table = TABLES[kind]
        self.db.execute(
            _SUMMARY.format(table=table, rows=_ROWS.format(table=table)),
            {"kind": kind, "ids": list(ids)},
        )

    def article_topic_names(self, article_id: int) -> list[str]:
        row = self.db.execute("SELECT topics FROM articles WHERE id = ?", [article_id]).fetchone()
        if not row or not row[0]:
            return []
        return [str(m["topic"]) for m in json.loads(row[0]) if m.get("topic")]

    def story_alert_topics(self, story_id: int) -> dict[str, bool]:
        rows = self.db.execute(
            "SELECT al.topic, bool_or(al.status != 'pending') FROM alerts al"
            " JOIN articles a ON a.id = al.article_id WHERE a.story_id = ? GROUP BY al.topic",
            [story_id],
        )
        return {str(r[0]): bool(r[1]) for r in rows}

    def search_articles(self, words: str, limit: int = 20) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM articles WHERE search @@ plainto_tsquery('newswatch', ?)"
            " ORDER BY ts_rank(search, plainto_tsquery('newswatch', ?)) DESC, id LIMIT ?",
            [words, words, limit],
        )
        return [int(r[0]) for r in rows]


class PostgresStore(PostgresOps, Store):
    """The dataset on PostgreSQL: the same named operations as on SQLite."""
