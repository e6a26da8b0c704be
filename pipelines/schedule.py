"""When passes run: the ``[schedule]`` cron expression read into an APScheduler trigger.

Kept apart from the scheduler loop so that ``newswatch.toml`` is checked when it is loaded:
a cron typo fails at start, naming the key, not at the first fire time.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A weekday number not after a "/" (the step in "*/2" is a count, not a day).
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A trigger for a crontab line: 5 fields, or 6 with seconds first.

    ``CronTrigger.from_crontab`` in APScheduler 3 reads weekday 0 as Monday where cron
    reads Sunday; numbers are turned into names here so that ``0 9 * * 1-5`` means what
    it means in a crontab (weekdays at 09:00). The seconds form (``*/1 * * * * *``) is
    there for tests and demos that cannot wait a minute.
    Raises ValueError with APScheduler's reason for a bad field or time zone.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(
            f"needs 5 fields (minute hour day month weekday) or 6 with seconds first,"
            f" not {len(fields)}: {expr!r}"
        )
    second, minute, hour, day, month, weekday = fields
    weekday = _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group(1))], weekday)
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday,
        timezone=timezone,
    )
