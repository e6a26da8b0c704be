"""When passes run: the ``[schedule]`` cron expression, read as crontab reads it.

The expression is parsed and iterated by croniter: steps (``1-5/2``), ranges, lists, month
and weekday names, ``0`` and ``7`` for Sunday, the ``@hourly``-style macros, and crontab's
rule that a restricted day of month and a restricted weekday are alternatives (``0 9 1 * 1``
fires on the 1st *and* on every Monday). APScheduler only asks the trigger for the next
fire time.

Kept apart from the scheduler loop so that ``newswatch.toml`` is checked when it is loaded:
a cron typo fails at start, naming the key, not at the first fire time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class CronSchedule:
    """A crontab line in a time zone: 5 fields, 6 with seconds first, or a macro."""

    def __init__(self, expr: str, timezone: str) -> None:
        # Imported here: croniter takes ~35 ms to import, and only a config that sets
        # [schedule] or the scheduler needs it.
        from croniter import CroniterError, croniter

        self.expr = " ".join(expr.split())
        self.timezone = ZoneInfo(timezone)
        fields = self.expr.split()
        if not (len(fields) == 1 and fields[0].lower() in MACROS) and len(fields) not in (5, 6):
            raise ValueError(
                "needs 5 fields (minute hour day month weekday), 6 with seconds first, or one"
                f" of {', '.join(MACROS)}; not {len(fields)} field(s): {expr!r}"
            )
        try:
            croniter(self.expr, datetime.now(self.timezone), second_at_beginning=True)
        except CroniterError as exc:
            raise ValueError(f"not a valid crontab expression: {expr!r} ({exc})") from None

    def next_after(self, start: datetime) -> datetime | None:
        """The first fire time at or after ``start`` (in the schedule's time zone), or None
        when the expression never fires (``0 0 30 2 *``)."""
        from croniter import CroniterBadDateError, croniter

        start = start.astimezone(self.timezone)
        # croniter returns times strictly after its start, at whole seconds: start one
        # second before the earliest whole second allowed.
        if start.microsecond:
            start = start.replace(microsecond=0) + timedelta(seconds=1)
        try:
            fire: datetime = croniter(
                self.expr, start - timedelta(seconds=1), second_at_beginning=True
            ).get_next(datetime)
        except CroniterBadDateError:
            return None
        return fire


@cache
def _trigger_class() -> type[BaseTrigger]:
    from apscheduler.triggers.base import BaseTrigger

    class CronTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
        """An APScheduler 3 trigger firing on a :class:`CronSchedule`."""

        def __init__(self, schedule: CronSchedule) -> None:
            self.schedule = schedule
            self.timezone = schedule.timezone  # as APScheduler's own triggers have it

        def get_next_fire_time(
            self, previous_fire_time: datetime | None, now: datetime
        ) -> datetime | None:
            start = now
            if previous_fire_time is not None:
                start = max(now, previous_fire_time + timedelta(seconds=1))
            return self.schedule.next_after(start)

        def __str__(self) -> str:
            return f"cron[{self.schedule.expr}]"

        def __repr__(self) -> str:
            return f"CronTrigger({self.schedule.expr!r}, {self.schedule.timezone.key!r})"

    return CronTrigger


def cron_trigger(expr: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a crontab line (see :class:`CronSchedule`).

    Raises ValueError naming what is wrong (also for a line that never fires), and
    ZoneInfoNotFoundError for an unknown time zone.
    """
    schedule = CronSchedule(expr, timezone)
    if schedule.next_after(datetime.now(schedule.timezone)) is None:
        raise ValueError(f"never fires: {expr!r}")
    return _trigger_class()(schedule)
