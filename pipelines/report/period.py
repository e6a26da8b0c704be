"""Periods of days as the command line gives them: ``30d`` (days back from today, UTC)
or an ISO day ``2026-11-01``."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pipelines.clock import utcnow
from pipelines.errors import UsageError

_DAYS_AGO = re.compile(r"^(\d{1,5})d$")


def today() -> date:
    return date.fromisoformat(utcnow()[:10])


def parse_day(value: str, option: str = "day") -> str:
    """``30d`` -> the day 30 days before today; ``2026-11-01`` as is; else UsageError."""
    value = value.strip()
    if ago := _DAYS_AGO.match(value):
        return (today() - timedelta(days=int(ago.group(1)))).isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"{option} {value!r}: give a day (2026-11-01) or days ago (30d)") from None


def days_between(since: str, until: str) -> list[str]:
    """Every day from ``since`` to ``until``, both included."""
    first, last = date.fromisoformat(since), date.fromisoformat(until)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
