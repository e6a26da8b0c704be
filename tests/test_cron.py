"""``[schedule] cron`` fires as crontab does: steps, ranges, lists, names, macros, and the
day-of-month / weekday OR rule (crontab(5): "if both fields are restricted, the command
runs when either field matches")."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.schedule import cron_trigger

START = "2026-11-21T10:00:30+00:00"  # a Saturday, half a minute after 10:00

# expression -> the next fire times after START, as crontab fires them (UTC).
TABLE = {
    # steps, ranges, lists
    "0 9 * * 1-5/2": [
        "2026-11-23T09:00",
        "2026-11-25T09:00",
        "2026-11-27T09:00",
        "2026-11-30T09:00",
    ],
    "*/20 10-11 * * *": [
        "2026-11-21T10:20",
        "2026-11-21T10:40",
        "2026-11-21T11:00",
        "2026-11-21T11:20",
    ],
    "0 0 */10 * *": [
        "2026-12-01T00:00",
        "2026-12-11T00:00",
        "2026-12-21T00:00",
        "2026-12-31T00:00",
    ],
    "0 9 1,15 * *": [
        "2026-12-01T09:00",
        "2026-12-15T09:00",
        "2027-01-01T09:00",
        "2027-01-15T09:00",
    ],
    "0 8-18/5 * * 6": [
        "2026-11-21T13:00",
        "2026-11-21T18:00",
        "2026-11-28T08:00",
        "2026-11-28T13:00",
    ],
    # weekday numbers (0 and 7 are Sunday) and names
    "30 8 * * 0": ["2026-11-22T08:30", "2026-11-29T08:30", "2026-12-06T08:30", "2026-12-13T08:30"],
    "30 8 * * 7": ["2026-11-22T08:30", "2026-11-29T08:30", "2026-12-06T08:30", "2026-12-13T08:30"],
    "5 4 * * mon-wed": [
        "2026-11-23T04:05",
        "2026-11-24T04:05",
        "2026-11-25T04:05",
        "2026-11-30T04:05",
    ],
    "0 0 1 jan,jul *": [
        "2027-01-01T00:00",
        "2027-07-01T00:00",
        "2028-01-01T00:00",
        "2028-07-01T00:00",
    ],
    # day of month OR weekday when both are restricted
    "0 9 1 * 1": ["2026-11-23T09:00", "2026-11-30T09:00", "2026-12-01T09:00", "2026-12-07T09:00"],
    "0 9 13 * fri": [
        "2026-11-27T09:00",
        "2026-12-04T09:00",
        "2026-12-11T09:00",
        "2026-12-13T09:00",
    ],
    # ... and AND when one of them is '*'
    "0 9 * 12 1": ["2026-12-07T09:00", "2026-12-14T09:00", "2026-12-21T09:00", "2026-12-28T09:00"],
    # rare days
    "0 0 29 2 *": ["2028-02-29T00:00", "2032-02-29T00:00", "2036-02-29T00:00", "2040-02-29T00:00"],
    "59 23 31 12 *": [
        "2026-12-31T23:59",
        "2027-12-31T23:59",
        "2028-12-31T23:59",
        "2029-12-31T23:59",
    ],
    # macros
    "@hourly": ["2026-11-21T11:00", "2026-11-21T12:00", "2026-11-21T13:00", "2026-11-21T14:00"],
    "@daily": ["2026-11-22T00:00", "2026-11-23T00:00", "2026-11-24T00:00", "2026-11-25T00:00"],
    "@midnight": ["2026-11-22T00:00", "2026-11-23T00:00", "2026-11-24T00:00", "2026-11-25T00:00"],
    "@weekly": ["2026-11-22T00:00", "2026-11-29T00:00", "2026-12-06T00:00", "2026-12-13T00:00"],
    "@monthly": ["2026-12-01T00:00", "2027-01-01T00:00", "2027-02-01T00:00", "2027-03-01T00:00"],
    "@yearly": ["2027-01-01T00:00", "2028-01-01T00:00", "2029-01-01T00:00", "2030-01-01T00:00"],
}


def fire_times(expr: str, timezone: str = "UTC", count: int = 4) -> list[str]:
    trigger = cron_trigger(expr, timezone)
    previous = None
    now = datetime.fromisoformat(START)
    fired = []
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        assert previous is not None
        fired.append(previous)
        now = previous  # the scheduler asks again at the fire time itself
    return [
        f.strftime("%Y-%m-%dT%H:%M:%S" if expr.count(" ") == 5 else "%Y-%m-%dT%H:%M") for f in fired
    ]


@pytest.mark.parametrize(("expr", "expected"), TABLE.items())
def test_every_documented_crontab_form_fires_as_crontab_does(
    expr: str, expected: list[str]
) -> None:
    assert fire_times(expr) == expected


def test_a_seconds_field_in_front_counts_seconds() -> None:
    assert fire_times("*/15 * * * * *") == [
        "2026-11-21T10:00:30",
        "2026-11-21T10:00:45",
        "2026-11-21T10:01:00",
        "2026-11-21T10:01:15",
    ]


def test_a_fire_time_equal_to_now_fires_once() -> None:
    trigger = cron_trigger("0 9 * * *", "UTC")
    nine = datetime.fromisoformat("2026-11-23T09:00:00+00:00")
    assert trigger.get_next_fire_time(None, nine) == nine
    assert trigger.get_next_fire_time(nine, nine).isoformat() == "2026-11-24T09:00:00+00:00"


def test_fire_times_are_wall_clock_times_of_the_time_zone() -> None:
    trigger = cron_trigger("30 8 * * 1-5", "Europe/Paris")
    saturday = datetime.fromisoformat(START)
    fire = trigger.get_next_fire_time(None, saturday)
    assert fire.strftime("%a %H:%M %Z") == "Mon 08:30 CET"
    assert fire.isoformat() == "2026-11-23T08:30:00+01:00"
