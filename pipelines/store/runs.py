"""Passes (``runs``) and per-source health (``source_health``).

A pass opens its ``runs`` row first (``running``) and finishes it with its counts; a pass
killed before that leaves ``running`` behind, which the next pass turns into
``interrupted`` instead of pretending it finished. The health rules themselves (when a
source is failing) live in ``pipelines/health.py``; this module only stores their state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase


@dataclass(frozen=True)
class HealthRow:
    """One source's health as stored: ``ok`` or ``failing``, and since when."""

    source: str
    state: str = "ok"
    bad_passes: int = 0  # bad passes in a row, the latest included
    since: str | None = None  # when the state last changed
    last_run_id: int | None = None
    last_error: str | None = None  # "refused 2, timeout 1": the latest bad pass's errors


@dataclass(frozen=True)
class RunTotals:
    """A finished pass's counts, summed over its sources."""

    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    relevant: int = 0
    errors: int = 0


class RunOps(StoreBase):
    """Operations on ``runs`` and ``source_health``."""

    def close_interrupted_runs(self) -> int:
        """Runs still ``running`` belong to passes that were killed: say so. Returns how many.

        Only called with the pass lock held, so no live pass can be among them.
        """
        cursor = self.db.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
            [utcnow()],
        )
        return int(cursor.rowcount)

    def start_run(self) -> int:
        """A new ``running`` row; returns its id."""
        cursor = self.db.execute(
            "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [utcnow()]
        )
        run_id = cursor.lastrowid
        assert isinstance(run_id, int)
        return run_id

    def finish_run(
        self,
        run_id: int,
        *,
        exit_code: int,
        totals: RunTotals,
        sources: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Close a run with its totals and each source's counts (``runs.sources``, JSON)."""
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, fetched = ?, new = ?,"
            " duplicates = ?, relevant = ?, errors = ?, sources = ? WHERE id = ?",
            [
                utcnow(),
                "failed" if exit_code else "ok",
                exit_code,
                totals.fetched,
                totals.new,
                totals.duplicates,
                totals.relevant,
                totals.errors,
                json.dumps(sources),
                run_id,
            ],
        )

    def add_run_source(
        self, run_id: int, name: str, counts: Mapping[str, Any], job: str | None = None
    ) -> bool:
        """One crawl's counts of a source, added to the source's entry in a run still
        ``running`` (``runs.sources``) by a crawl of another process (a Scrapyd job of
        ``newswatch cluster run``); the pass finishes the run with them. Several jobs of one
        source add up (:func:`add_counts`); ``job`` (the job's id) is noted under ``jobs``
        with the job's own ``fetched`` and ``new``, and a job already noted adds nothing
        again. False when the run is not running (any more)."""
        with self.transaction():
            rows = list(
                self.db.query(
                    f"SELECT status, sources FROM runs WHERE id = ?{self.FOR_UPDATE}", [run_id]
                )
            )  # locked until the update: jobs of one pass finish at the same time
            row = rows[0] if rows else None
            if row is None or row["status"] != "running":
                return False
            sources = json.loads(row["sources"] or "{}")
            entry = sources.get(name) or {}
            jobs = dict(entry.get("jobs") or {})
            if job is not None and job in jobs:
                return True  # recorded already
            entry = add_counts(entry, counts)
            if job is not None:
                jobs[job] = {k: int(counts.get(k, 0)) for k in ("fetched", "new")}
            if jobs:
                entry["jobs"] = jobs
            sources[name] = entry
            self.db.execute(
                "UPDATE runs SET sources = ? WHERE id = ?", [json.dumps(sources), run_id]
            )
        return True

    def record_alerts_sent(self, run_id: int, sent: int) -> None:
        self.db.execute("UPDATE runs SET alerts_sent = ? WHERE id = ?", [sent, run_id])

    def run_row(self, run_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
        return rows[0] if rows else None

    def source_health(self, source: str) -> HealthRow:
        """A source's stored health; a source never recorded is ``ok``."""
        rows = list(self.db.query("SELECT * FROM source_health WHERE source = ?", [source]))
        return _health_row(rows[0]) if rows else HealthRow(source)

    def save_source_health(self, row: HealthRow) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO source_health (source, state, bad_passes, since,"
            " last_run_id, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                row.source,
                row.state,
                row.bad_passes,
                row.since,
                row.last_run_id,
                row.last_error,
                utcnow(),
            ],
        )

    def health_states(self) -> dict[str, HealthRow]:
        """Every recorded source's health, by source name."""
        return {
            str(r["source"]): _health_row(r)
            for r in self.db.query("SELECT * FROM source_health ORDER BY source")
        }


def add_counts(total: Mapping[str, Any], counts: Mapping[str, Any]) -> dict[str, Any]:
    """Two crawls' counts of one source as one: numbers added, dicts of numbers (``errors``)
    added key by key, a string (``name``, ``stopped``) kept when not empty; ``jobs`` is
    left to :meth:`RunOps.add_run_source`."""
    out = {k: v for k, v in total.items() if k != "jobs"}
    for key, value in counts.items():
        if key == "jobs":
            continue
        old = out.get(key)
        if isinstance(value, int | float):
            out[key] = (old if isinstance(old, int | float) else 0) + value
        elif isinstance(value, Mapping):
            merged = dict(old) if isinstance(old, Mapping) else {}
            for k, v in value.items():
                merged[k] = merged.get(k, 0) + v
            out[key] = merged
        elif value or old is None:
            out[key] = value
    return out


def _health_row(r: Mapping[str, Any]) -> HealthRow:
    return HealthRow(
        source=str(r["source"]),
        state=str(r["state"]),
        bad_passes=int(r["bad_passes"] or 0),
        since=r["since"],
        last_run_id=r["last_run_id"],
        last_error=r["last_error"],
    )
