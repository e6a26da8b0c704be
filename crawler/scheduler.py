"""``newswatch schedule``: passes on a cron expression, each in its own process.

A Twisted reactor cannot be restarted, so every pass is ``newswatch run`` in a child
process, exactly as cron would start it. The child gets a process group of its own: a
timeout or a stop ends the whole pass (Scrapy and anything it started), and Ctrl-C on the
scheduler's terminal reaches the scheduler only, which then stops the pass politely
(SIGTERM: Scrapy closes its spiders and the pass still records its run).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

import click
from apscheduler.schedulers.blocking import BlockingScheduler

from pipelines.config import Config
from pipelines.defaults import STOP_GRACE_SECONDS
from pipelines.errors import ExitCode
from pipelines.rhythm import parse_rhythm
from pipelines.schedule import cron_trigger


class PassRunner:
    """Runs one pass at a time as a child process, with a timeout; can be stopped."""

    def __init__(self, command: Sequence[str], timeout: float) -> None:
        self.command = list(command)
        self.timeout = timeout
        self.passes = 0
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # one child at a time: a digest waits for the pass
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    def run_once(self) -> int | None:
        """One pass; its exit code, or None when the scheduler is stopping."""
        with self._busy:
            return self._run(self.command, "pass")

    def send_digest(self, command: Sequence[str]) -> int | None:
        """``newswatch alerts send`` at a digest slot, once the running pass (if any) ends."""
        with self._busy:
            return self._run(list(command), "digest")

    def _run(self, command: list[str], what: str) -> int | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            try:
                child = subprocess.Popen(command, start_new_session=True)
            except OSError as exc:
                click.echo(f"newswatch: schedule: cannot start a {what}: {exc}", err=True)
                return None
            self._idle.clear()
            self._child = child
        if what != "pass":
            return self._wait(child, what)
        self.passes += 1
        return self._wait(child, f"pass {self.passes}")

    def _wait(self, child: subprocess.Popen[bytes], label: str) -> int:
        started = time.monotonic()
        click.echo(f"newswatch: schedule: {label} started (pid {child.pid})")
        try:
            code = child.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            click.echo(
                f"newswatch: schedule: {label} still running after"
                f" {self.timeout:g} s: stopping it (process group {child.pid})",
                err=True,
            )
            code = self._end(child)
        finally:
            with self._lock:
                self._child = None
                self._idle.set()
        took = time.monotonic() - started
        click.echo(f"newswatch: schedule: {label} finished: exit {code} ({took:.1f} s)")
        return code

    def stop(self) -> None:
        """No new pass; the running one (if any) is asked to stop, then killed."""
        with self._lock:
            self._stopping.set()
            child = self._child
        if child is not None:
            threading.Thread(target=self._end, args=(child,), daemon=True).start()

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)

    @staticmethod
    def _end(child: subprocess.Popen[bytes]) -> int:
        _signal_group(child.pid, signal.SIGTERM)
        try:
            return child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            return child.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, sig)


def _shutdown(scheduler: BlockingScheduler) -> None:
    # A signal that lands just before start() must still stop it: wait until it runs.
    deadline = time.monotonic() + 10
    while not scheduler.running and time.monotonic() < deadline:
        time.sleep(0.05)
    if scheduler.running:
        scheduler.shutdown(wait=False)


def pass_command(config: Config, verbose: bool) -> list[str]:
    """``newswatch --config PATH run --summary`` with the interpreter running us."""
    command = [sys.executable, "-m", "crawler", "--config", str(config.path.resolve())]
    return [*command, *(["--verbose"] if verbose else []), "run", "--summary"]


def digest_command(config: Config, verbose: bool) -> list[str]:
    """``newswatch --config PATH alerts send``: a digest slot's send, as cron would run it."""
    command = [sys.executable, "-m", "crawler", "--config", str(config.path.resolve())]
    return [*command, *(["--verbose"] if verbose else []), "alerts", "send"]


def add_digest_job(
    scheduler: BlockingScheduler, runner: PassRunner, config: Config, verbose: bool
) -> str | None:
    """A job at the digest's slots (``[alerts] digest``), unless digests go after each pass;
    returns the rhythm in words."""
    rhythm = parse_rhythm(config.alerts.digest)
    if rhythm.each_pass:
        return None
    scheduler.add_job(
        runner.send_digest,
        cron_trigger(rhythm.cron(), config.alerts.timezone),
        args=[digest_command(config, verbose)],
        id="digest",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=config.schedule.misfire_grace_seconds,
    )
    return f"{rhythm.describe()} ({config.alerts.timezone})"


def run_schedule(
    config: Config, *, verbose: bool = False, on_start: Callable[[], None] | None = None
) -> int:
    """Run passes until SIGTERM or SIGINT; returns the exit code (0 on a clean stop)."""
    s = config.schedule
    runner = PassRunner(pass_command(config, verbose), timeout=s.timeout_minutes * 60)
    scheduler = BlockingScheduler(timezone=s.timezone)
    scheduler.add_job(
        runner.run_once,
        cron_trigger(s.cron, s.timezone),
        id="pass",
        max_instances=1,  # never two passes of ours at once
        coalesce=True,  # fire times missed while a pass ran make one pass, not a burst
        misfire_grace_time=s.misfire_grace_seconds,
    )
    digest = add_digest_job(scheduler, runner, config, verbose)
    # A fire time that comes while a pass still runs is skipped: say so once, not per time.
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.ERROR)

    def stop(signum: int, frame: FrameType | None) -> None:
        click.echo(f"newswatch: schedule: {signal.Signals(signum).name}: stopping", err=True)
        runner.stop()
        # Not from the handler itself: the main thread may hold a lock shutdown() needs.
        threading.Thread(target=_shutdown, args=(scheduler,), daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        click.echo(
            f"newswatch: schedule: passes on '{s.cron}' ({s.timezone}), timeout"
            f" {s.timeout_minutes:g} min; config {config.path}"
        )
        if digest is not None:
            click.echo(f"newswatch: schedule: alert digest {digest}")
        if on_start is not None:
            on_start()
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    runner.wait_idle(STOP_GRACE_SECONDS + 5)
    click.echo(f"newswatch: schedule: stopped after {runner.passes} pass(es)")
    return ExitCode.OK
