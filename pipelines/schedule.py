"""When passes run: the ``[schedule]`` cron expression read into an APScheduler trigger.

Kept apart from the scheduler loop so that ``newswatch.toml`` is checked when it is loaded:
a cron typo fails at start, naming the key, not at the first fire time.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A weekday number not after a "/" (the step in "*/2" is a count, not a day).
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")
# A range from Sunday as 0 ("0-4"): as names it would end before it starts ("sun-thu").
_FROM_SUNDAY = re.compile(r"0-([0-7])(?:/([1-9]\d*))?")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A trigger for a crontab line: 5 fields, or 6 with seconds first.

    ``CronTrigger.from_crontab`` in APScheduler 3 reads weekday 0 as Monday where cron
    reads Sunday; numbers are turned into names here so that ``0 9 * * 1-5`` means what
    it means in a crontab (weekdays at 09:00). The seconds form (``*/1 * * * * *``) is
    there for tests and demos that cannot wait a minute.
    Raises ValueError with APScheduler's reason for a bad field or time zone.
    """
    # Imported here: APScheduler's cron parser takes ~60 ms to import, half the time of
    # loading a config, and only a config that sets [schedule] or the scheduler needs it.
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(
            f"needs 5 fields (minute hour day month weekday) or 6 with seconds first,"
            f" not {len(fields)}: {expr!r}"
        )
    second, minute, hour, day, month, weekday = fields
    weekday = ",".join(_weekday_names(item) for item in weekday.split(","))
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday,
        timezone=timezone,
    )


def _weekday_names(item: str) -> str:
    """One item of a crontab weekday list with names for numbers; a range from 0 is
    spelled out day by day ("0-4" is "sun,mon,tue,wed,thu")."""
    if item.startswith("*/"):  # every Nth day counts from Sunday, as "0-6/N" does
        item = "0-6" + item[1:]
    match = _FROM_SUNDAY.fullmatch(item)
    if match is None:
        return _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group(1))], item)
    days = range(0, int(match.group(1)) + 1, int(match.group(2) or 1))
    return ",".join(dict.fromkeys(_WEEKDAYS[day] for day in days))
