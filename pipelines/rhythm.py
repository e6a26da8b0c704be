"""The digest's rhythm: ``[alerts] digest = "each-pass" | "daily HH:MM" | "weekly DAY HH:MM"``.

With a daily or weekly rhythm, passes only queue alerts; they go out in one digest per
slot, the first send at or after the slot's time (``newswatch schedule`` runs one at the
time itself; under cron, the next pass or ``alerts send`` does). A slot is claimed in the
dataset (``digest_slots``) before anything goes out, so each slot is sent once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FORMS = '"each-pass", "daily HH:MM" or "weekly DAY HH:MM" (DAY: mon ... sun)'
_PATTERN = re.compile(
    r"^(?:(?P<each>each-pass)|daily (?P<dh>\d{1,2}):(?P<dm>\d{2})"
    r"|weekly (?P<day>[a-z]{3})[a-z]* (?P<wh>\d{1,2}):(?P<wm>\d{2}))$"
)


@dataclass(frozen=True)
class Rhythm:
    kind: str  # "each-pass" | "daily" | "weekly"
    hour: int = 0
    minute: int = 0
    weekday: int = 0  # 0 = Monday (weekly only)

    @property
    def each_pass(self) -> bool:
        return self.kind == "each-pass"

    def cron(self) -> str:
        """The rhythm as a 5-field cron expression (for ``newswatch schedule``)."""
        day = DAYS[self.weekday] if self.kind == "weekly" else "*"
        return f"{self.minute} {self.hour} * * {day}"

    def describe(self) -> str:
        if self.each_pass:
            return "after each pass"
        at = f"{self.hour:02d}:{self.minute:02d}"
        return f"daily at {at}" if self.kind == "daily" else f"{DAYS[self.weekday]} at {at}"


def parse_rhythm(text: str) -> Rhythm:
    """``"daily 08:00"`` -> Rhythm; a ValueError says which forms are understood."""
    found = _PATTERN.match(" ".join(text.lower().split()))
    if found is None:
        raise ValueError(f"expected {_FORMS}, not {text!r}")
    if found["each"]:
        return Rhythm("each-pass")
    weekly = found["day"] is not None
    hour, minute = (
        (int(found["wh"]), int(found["wm"]))
        if weekly
        else (
            int(found["dh"]),
            int(found["dm"]),
        )
    )
    if hour > 23 or minute > 59:
        raise ValueError(f"not a time of day in {text!r} (HH:MM, 00:00 to 23:59)")
    if not weekly:
        return Rhythm("daily", hour, minute)
    day = found["day"][:3]
    if day not in DAYS:
        raise ValueError(f"unknown day {found['day']!r} in {text!r} (mon ... sun)")
    return Rhythm("weekly", hour, minute, DAYS.index(day))


def latest_slot(rhythm: Rhythm, now: datetime, timezone: str) -> datetime | None:
    """The latest slot at or before ``now`` (aware, UTC); None for each-pass."""
    if rhythm.each_pass:
        return None
    zone = ZoneInfo(timezone)
    local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(zone)
    for back in range(0, 9):  # a week and a day cover every weekly slot and DST shifts
        day = (local - timedelta(days=back)).date()
        if rhythm.kind == "weekly" and day.weekday() != rhythm.weekday:
            continue
        slot = datetime(day.year, day.month, day.day, rhythm.hour, rhythm.minute, tzinfo=zone)
        if slot <= local:
            return slot.astimezone(UTC)
    return None  # pragma: no cover - a slot always lies within the last eight days
