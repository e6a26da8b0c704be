"""Timestamps as the dataset writes them: ISO 8601 in UTC, to the second, sortable as text."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> str:
    """Now, in the form every timestamp of the dataset takes."""
    return iso_utc(datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    """A moment in the form ``utcnow()`` writes (naive means UTC), so times compare as text."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=0).isoformat()
