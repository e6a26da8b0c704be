"""Operations commands: ``newswatch schedule`` and ``newswatch doctor``."""

from __future__ import annotations

import os
import sys

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from pipelines.defaults import DOCTOR_TIMEOUT
from pipelines.errors import ExitCode


@click.command()
@pass_state
@fail_cleanly
def schedule(state: State) -> None:
    """Run a pass on the [schedule] cron expression until stopped (SIGTERM or Ctrl-C).

    Each pass is `newswatch run` in its own process, killed (its whole process group)
    after [schedule] timeout_minutes. A fire time that comes while a pass still runs is
    skipped; the lock file keeps a cron pass and a scheduled pass from overlapping.
    The cron expression has 5 fields, or 6 with seconds first.

    \b
    Example:
        newswatch --config newswatch.toml schedule
        # newswatch.toml:  [schedule]  cron = "*/30 6-22 * * *"  timezone = "Africa/Casablanca"
    """
    from crawler.scheduler import run_schedule

    sys.exit(run_schedule(state.config, verbose=state.verbose))


@click.command()
@click.option(
    "--timeout",
    default=DOCTOR_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0.1, max=120),
    help="Seconds to wait for each source and for the SMTP server.",
)
@pass_state
def doctor(state: State, timeout: float) -> None:
    """Check that a pass can run: config, database, SMTP login (nothing sent), sources.

    Prints one line per check, `ok` or `FAIL`, and exits 1 when any check fails.

    \b
    Example:
        NEWSWATCH_SMTP_URL='smtp://user:pass@mail.example.org:587?starttls=1' \\
            newswatch --config newswatch.toml doctor
    """
    from crawler.doctor import run_checks
    from pipelines.config import resolve_config_path

    path = resolve_config_path(state.config_path)
    ok = run_checks(path, os.environ, timeout=timeout, echo=click.echo)
    sys.exit(ExitCode.OK if ok else ExitCode.FAILED)
