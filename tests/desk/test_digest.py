"""The digest rhythm: passes queue, a daily or weekly slot goes out once, the next pass or
``alerts send`` after its time sends it, and the scheduler runs a send at the slot."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from items import DESK_TOML, add_alert

from crawler.scheduler import PassRunner, add_digest_job
from pipelines.config import Config, parse_config
from pipelines.errors import ConfigError
from pipelines.outbox import send_all
from pipelines.rhythm import latest_slot, parse_rhythm
from pipelines.store import Store, open_store


def config(tmp_path: Path, digest: str) -> Config:
    text = DESK_TOML + f'digest = "{digest}"\n'
    path = tmp_path / "nw.toml"
    path.write_text(text, "utf-8")
    return parse_config(tomllib.loads(text), path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "nw.db") as opened:
        yield opened


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_rhythms_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    assert parse_rhythm("each-pass").each_pass
    assert parse_rhythm("daily 08:00").cron() == "0 8 * * *"
    assert parse_rhythm("weekly Monday 7:30").cron() == "30 7 * * mon"
    for bad in ("daily 25:00", "hourly", "weekly xyz 08:00"):
        with pytest.raises(ConfigError, match=r"alerts\.digest: "):
            config(tmp_path, bad)
    with pytest.raises(ConfigError, match=r"alerts\.timezone: unknown time zone 'Mars/Base'"):
        mars = DESK_TOML.replace("Europe/Paris", "Mars/Base")
        parse_config(tomllib.loads(mars), tmp_path / "nw.toml")


def test_the_latest_slot_is_in_the_readers_time_zone() -> None:
    daily, weekly = parse_rhythm("daily 08:00"), parse_rhythm("weekly fri 18:00")
    # 08:00 in Paris is 07:00 UTC in winter.
    assert latest_slot(daily, at("2026-12-04T07:30:00+00:00"), "Europe/Paris") == at(
        "2026-12-04T07:00:00+00:00"
    )
    assert latest_slot(daily, at("2026-12-04T06:59:00+00:00"), "Europe/Paris") == at(
        "2026-12-03T07:00:00+00:00"
    )
    assert latest_slot(weekly, at("2026-12-07T12:00:00+00:00"), "Europe/Paris") == at(
        "2026-12-04T17:00:00+00:00"
    )


def test_a_daily_digest_goes_out_once_per_slot_with_what_was_queued_before_it(
    tmp_path: Path, store: Store
) -> None:
    cfg = config(tmp_path, "daily 08:00")
    add_alert(store, 1, created_at="2026-12-03T12:00:00+00:00")
    add_alert(store, 2, created_at="2026-12-04T06:00:00+00:00")
    dry = send_all(store, cfg, [], dry_run=True, now=at("2026-12-04T07:05:00+00:00"))
    assert len(dry.messages) == 1 and store.latest_digest_slot() is None  # a dry run claims none

    # The slot of 4 Dec 08:00 (Paris) is due: the first send claims it and sends one digest.
    from pipelines.channels.email import EmailChannel, MaildirTransport

    channel = EmailChannel(MaildirTransport(tmp_path / "mail"))
    first = send_all(store, cfg, [channel], now=at("2026-12-04T07:05:00+00:00"))
    add_alert(store, 3, created_at="2026-12-04T07:10:00+00:00")  # after the slot
    second = send_all(store, cfg, [channel], now=at("2026-12-04T09:00:00+00:00"))
    next_day = send_all(store, cfg, [channel], now=at("2026-12-05T07:01:00+00:00"))

    assert (first.sent, first.digest_slot, len(first.messages)) == (
        2,
        "2026-12-04T07:00:00+00:00",
        1,
    )
    assert "2 new articles" in first.messages[0].message.text
    assert (second.sent, second.digest_waiting, second.digest_slot) == (0, 1, None)
    assert (next_day.sent, next_day.digest_slot) == (1, "2026-12-05T07:00:00+00:00")
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 2
    assert not store.claim_digest_slot("2026-12-05T07:00:00+00:00", "daily 08:00")


def test_each_pass_keeps_one_message_per_alert(tmp_path: Path, store: Store) -> None:
    cfg = config(tmp_path, "each-pass")
    add_alert(store, 1)
    add_alert(store, 2)
    report = send_all(store, cfg, [], dry_run=True)
    assert [len(o.message.items) for o in report.messages] == [1, 1]


def test_the_scheduler_sends_the_digest_at_its_slot(tmp_path: Path) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="Europe/Paris")
    runner = PassRunner(["true"], timeout=60)
    assert add_digest_job(scheduler, runner, config(tmp_path, "each-pass"), False) is None
    described = add_digest_job(scheduler, runner, config(tmp_path, "weekly mon 07:30"), False)
    assert described == "mon at 07:30 (Europe/Paris)"
    (job,) = scheduler.get_jobs()
    assert job.id == "digest" and job.args[0][-2:] == ["alerts", "send"]
    assert str(job.trigger) == "cron[30 7 * * mon]"


def test_a_weekly_digest_can_carry_the_weeks_report(tmp_path: Path, store: Store) -> None:
    import email

    from pipelines.channels.email import EmailChannel, MaildirTransport

    text = DESK_TOML + 'digest = "weekly fri 18:00"\nattach_report = true\n'
    cfg = parse_config(tomllib.loads(text), tmp_path / "nw.toml")
    add_alert(store, 1, created_at="2026-12-02T12:00:00+00:00")
    channel = EmailChannel(MaildirTransport(tmp_path / "mail"))
    sent = send_all(store, cfg, [channel], now=at("2026-12-04T17:05:00+00:00"))
    assert (sent.sent, sent.digest_slot) == (1, "2026-12-04T17:00:00+00:00")
    (path,) = (tmp_path / "mail" / "new").iterdir()
    message = email.message_from_bytes(path.read_bytes())
    (attached,) = [p for p in message.walk() if p.get_filename() == "report.html"]
    page = attached.get_payload(decode=True)
    assert isinstance(page, bytes) and b"<!DOCTYPE html>" in page
    assert b"2026-11-27" in page and b"2026-12-04" in page  # the week up to the slot
    # Without attach_report, a digest carries no file.
    plain = send_all(store, config(tmp_path, "weekly fri 18:00"), [], dry_run=True)
    assert all(not o.message.attachments for o in plain.messages)
