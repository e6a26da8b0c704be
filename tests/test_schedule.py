"""``newswatch schedule`` and the pass lock: real passes in child processes against sites on
127.0.0.1, real signals, a real lock file."""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import IO

import pytest
from conftest import run_newswatch

from crawler.scheduler import PassRunner
from pipelines.config import parse_config
from pipelines.errors import ConfigError
from pipelines.schedule import cron_trigger
from pipelines.store.lock import PassRunning, lock_path, pass_lock
from samples.localserver import SiteServers

EVERY_SECOND = '\n[schedule]\ncron = "* * * * * *"\ntimeout_minutes = 5\n'


def lines_of(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """Lines of a child's output as they come, read on a thread (no sleeps, no deadlock)."""
    out: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            out.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return out, reader


def wait_for(lines: queue.Queue[str], needle: str, count: int, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while sum(needle in line for line in seen) < count:
        seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
    return seen


@pytest.mark.crawl  # newswatch passes in child processes
def test_schedule_runs_passes_on_a_one_second_cron_and_stops_cleanly_on_sigterm(
    config_path: Path, servers: SiteServers
) -> None:
    with config_path.open("a", encoding="utf-8") as f:
        f.write(EVERY_SECOND)
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSWATCH_SMTP_URL",)}
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config_path), "schedule"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    lines, reader = lines_of(child.stdout)
    try:
        seen = wait_for(lines, "finished: exit 0", 2, timeout=240)
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(timeout=30)
        child.stdout.close()
    while not lines.empty():
        seen.append(lines.get())
    assert code == 0, "\n".join(seen)
    assert any("stopped after" in line for line in seen)
    assert sum("started (pid" in line for line in seen) >= 2
    conn = sqlite3.connect(config_path.parent / "newswatch.db")
    statuses = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")]
    conn.close()
    assert statuses[:2] == ["ok", "ok"]
    assert "running" not in statuses  # a pass cut short by the stop still recorded its run
    # The first pass fetched the articles; the second only looked for new ones.
    assert len(statuses) >= 2


@pytest.mark.crawl  # newswatch passes in child processes
def test_a_pass_while_another_holds_the_lock_is_refused_with_its_pid(
    config_path: Path, servers: SiteServers
) -> None:
    config = config_path.parent / "newswatch.db"
    with pass_lock(config):
        result = run_newswatch("run", config=config_path)
    assert result.code == 5
    assert "another newswatch pass is running" in result.err
    assert f"pid {os.getpid()} on {socket.gethostname()}, started 20" in result.err
    assert all(servers.requests(site) == [] for site in ("bladi", "bladna", "trends"))


def test_a_lock_left_by_a_dead_pass_is_reported_stale_and_taken_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = tmp_path / "nw.db"
    record = f"pid={dead.pid}\nhost={socket.gethostname()}\nsince=2026-01-02T03:04:05+00:00\n"
    lock_path(store).write_text(record, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipelines.store.lock"), pass_lock(store):
        assert f"pid={os.getpid()}\n" in lock_path(store).read_text("utf-8")
    assert f"pid {dead.pid} on {socket.gethostname()}, started 2026-01-02T03:04:05" in caplog.text
    assert "stale lock" in caplog.text
    assert lock_path(store).read_text("utf-8") == ""  # a clean exit leaves no record


def test_a_pass_ending_with_an_error_leaves_no_stale_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "nw.db"
    with pytest.raises(RuntimeError), pass_lock(store):
        raise RuntimeError("the pass failed")
    assert lock_path(store).read_text("utf-8") == ""
    monkeypatch.setattr(os, "getpid", lambda: 4_000_000)  # the next pass: another process
    with caplog.at_level(logging.WARNING, logger="pipelines.store.lock"), pass_lock(store):
        pass
    assert "stale lock" not in caplog.text


def test_the_lock_refuses_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    store = tmp_path / "nw.db"
    with pass_lock(store), pytest.raises(PassRunning, match=f"pid {os.getpid()}"), pass_lock(store):
        pass


def test_a_pass_over_its_timeout_is_killed_with_its_process_group() -> None:
    runner = PassRunner([sys.executable, "-c", "import time; time.sleep(120)"], timeout=0.5)
    started = time.monotonic()
    code = runner.run_once()
    assert code == -signal.SIGTERM
    assert time.monotonic() - started < 60


def test_stop_ends_a_running_pass_and_refuses_new_ones() -> None:
    runner = PassRunner([sys.executable, "-c", "import time; time.sleep(120)"], timeout=300)
    result: list[int | None] = []
    thread = threading.Thread(target=lambda: result.append(runner.run_once()))
    thread.start()
    while runner.passes == 0:  # run_once counts the pass right after starting the child
        time.sleep(0.01)
    runner.stop()
    thread.join(timeout=60)
    assert result == [-signal.SIGTERM]
    assert runner.run_once() is None


def test_cron_weekdays_mean_what_they_mean_in_a_crontab() -> None:
    weekdays = cron_trigger("0 9 * * 1-5", "UTC")
    saturday = datetime.fromisoformat("2026-11-21T10:00:00+00:00")
    assert weekdays.get_next_fire_time(None, saturday).isoformat() == "2026-11-23T09:00:00+00:00"
    sunday = cron_trigger("30 8 * * 0", "Africa/Casablanca")
    assert sunday.get_next_fire_time(None, saturday).strftime("%a %H:%M") == "Sun 08:30"


@pytest.mark.parametrize(
    ("weekdays", "days"),
    [
        ("0-6", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0-7", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0-4", ["Sun", "Mon", "Tue", "Wed", "Thu", "Sun", "Mon", "Tue"]),
        ("0-6/2", ["Sun", "Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]),
        ("0-1,5", ["Sun", "Mon", "Fri", "Sun", "Mon", "Fri", "Sun", "Mon"]),
    ],
)
def test_cron_weekday_ranges_from_sunday_as_0(weekdays: str, days: list[str]) -> None:
    trigger = cron_trigger(f"0 9 * * {weekdays}", "UTC")
    fire = datetime.fromisoformat("2026-11-21T10:00:00+00:00")  # a Saturday, after 09:00
    fired = []
    for _ in days:
        fire = trigger.get_next_fire_time(None, fire)
        fired.append(fire.strftime("%a"))
        fire = fire.replace(hour=10)
    assert fired == days


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"cron": "* * *"}, "schedule.cron: needs 5 fields"),
        ({"cron": "61 * * * *"}, "schedule.cron: not a valid crontab expression: '61 * * * *'"),
        ({"cron": "0 0 30 2 *"}, "schedule.cron: never fires: '0 0 30 2 *'"),
        ({"timezone": "Mars/Olympus"}, "schedule.timezone: unknown time zone 'Mars/Olympus'"),
        ({"timeout_minutes": 0}, "schedule.timeout_minutes: must be > 0"),
        ({"every": "hour"}, "schedule.every: unknown key"),
    ],
)
def test_bad_schedule_names_the_key(table: dict[str, object], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(").replace("*", r"\*")):
        parse_config({"schedule": table}, Path("nw.toml"))
