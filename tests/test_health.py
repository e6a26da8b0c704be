"""Source health on a real SQLite file, notices delivered by a real SMTP server (aiosmtpd on
127.0.0.1) or into a Maildir."""

from __future__ import annotations

import mailbox
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pipelines.channels.email import EmailChannel, MaildirTransport
from pipelines.channels.smtp import SmtpTransport
from pipelines.config import Config, parse_config
from pipelines.errors import ConfigError
from pipelines.health import SourcePass, update_health
from pipelines.outbox import MAX_ATTEMPTS, SendReport, backoff, send_all
from pipelines.store import Store, open_store

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytest_plugins = ["smtpserver"]

REJECTED_RECIPIENT = "nobody@example.org"  # the address smtp_rejecting_server refuses

DOWN = SourcePass("bladi", {"refused": 3}, 0)
UP = SourcePass("bladi", {}, 4)


def config(tmp_path: Path, health: str = "[health]\nfailing_passes = 3\n") -> Config:
    raw = (
        '[alerts]\nto = ["analyst@example.org"]\nfrom = "newswatch@example.org"\n'
        f"{health}"
        '[[sources]]\nname = "bladi"\ntitle = "Bladi (sample)"\n'
        'feeds = ["http://127.0.0.1:9/feed"]\n'
    )
    return parse_config(tomllib.loads(raw), tmp_path / "newswatch.toml")


@pytest.fixture
def db(tmp_path: Path) -> Store:
    return open_store(tmp_path / "newswatch.db")


def states(db: Store) -> list[tuple[str, int]]:
    return [(r["state"], r["bad_passes"]) for r in db.db.query("SELECT * FROM source_health")]


def send_notices(
    db: Store,
    transport: SmtpTransport | MaildirTransport | None,
    cfg: Config,
    **options: Any,
) -> SendReport:
    """One send over the email channel (``transport`` None: a dry run)."""
    if transport is None:
        return send_all(db, cfg, [], dry_run=True, **options)
    return send_all(db, cfg, [EmailChannel(transport)], **options)


def test_failing_after_n_bad_passes_once_and_recovered_once(db: Store, tmp_path: Path) -> None:
    cfg = config(tmp_path)
    queued = [update_health(db, run, [DOWN], cfg) for run in (1, 2, 3, 4, 5)]
    assert queued == [[], [], ["bladi failing"], [], []]
    assert states(db) == [("failing", 5)]
    assert update_health(db, 6, [UP], cfg) == ["bladi recovered"]
    assert update_health(db, 7, [UP], cfg) == []
    assert states(db) == [("ok", 0)]
    kinds = [(r["kind"], r["run_id"], r["status"]) for r in db.db.query("SELECT * FROM notices")]
    assert kinds == [("failing", 3, "pending"), ("recovered", 6, "pending")]


def test_a_good_pass_resets_the_count_and_page_errors_do_not_count(
    db: Store, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    gone = SourcePass("bladi", {"http_404": 2, "robots": 1}, 0)  # pages, not the source
    for run, p in enumerate([DOWN, DOWN, UP, DOWN, DOWN, gone, DOWN], 1):
        assert update_health(db, run, [p], cfg) == []
    assert states(db) == [("ok", 1)]
    half = SourcePass("bladi", {"timeout": 1}, 2)  # errors, but articles came: not bad
    assert not half.bad and DOWN.bad and not gone.bad


def test_notices_over_smtp_plain_utf8_with_proper_headers(
    db: Store, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    cfg = config(tmp_path, '[health]\nfailing_passes = 1\noperator = ["ops@example.org"]\n')
    update_health(db, 1, [DOWN], cfg)
    report = send_notices(db, SmtpTransport.from_url(smtp_server.url), cfg)
    assert (report.sent, report.failed) == (1, 0)
    (mail,) = smtp_server.received
    assert mail.rcpt_tos == ("ops@example.org",)
    msg = mail.message()
    assert msg["Subject"] == "[newswatch] source bladi is failing"
    assert msg["From"] == "newswatch@example.org"
    assert msg["Message-ID"].endswith("@example.org>") and msg["Date"]
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "Bladi (sample) (bladi)" in body and "refused x3" in body
    again = send_notices(db, SmtpTransport.from_url(smtp_server.url), cfg)
    assert again.sent == 0 and len(smtp_server.received) == 1
    row = next(db.db.query("SELECT status, attempts, sent_at FROM notices"))
    assert (row["status"], row["attempts"]) == ("sent", 1) and row["sent_at"]


def test_smtp_down_costs_no_attempt_and_keeps_the_notices_for_the_next_send(
    db: Store, tmp_path: Path, closed_port: int, smtp_server: SmtpServer
) -> None:
    cfg = config(tmp_path, "[health]\nfailing_passes = 1\n")
    update_health(db, 1, [DOWN], cfg)
    update_health(db, 2, [UP], cfg)
    down = send_notices(db, SmtpTransport.from_url(f"smtp://127.0.0.1:{closed_port}"), cfg)
    assert (down.sent, down.failed, down.retrying, down.held) == (0, 0, 0, 2)
    assert len(down.errors) == 1  # one connection tried, the second notice waited
    assert f"127.0.0.1:{closed_port}" in down.errors[0]
    rows = list(db.db.query("SELECT status, attempts, next_attempt_at, last_error FROM notices"))
    assert [(r["status"], r["attempts"], r["next_attempt_at"]) for r in rows] == [
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert rows[0]["last_error"]
    for _ in range(MAX_ATTEMPTS + 2):  # a long outage never turns a notice 'failed'
        send_notices(db, SmtpTransport.from_url(f"smtp://127.0.0.1:{closed_port}"), cfg)
    up = send_notices(db, SmtpTransport.from_url(smtp_server.url), cfg)
    assert up.sent == 2
    assert smtp_server.received[0].rcpt_tos == ("analyst@example.org",)  # alerts.to


def test_a_refused_notice_waits_out_a_backoff_then_fails(
    db: Store, tmp_path: Path, smtp_rejecting_server: SmtpServer
) -> None:
    cfg = config(tmp_path, f'[health]\nfailing_passes = 1\noperator = ["{REJECTED_RECIPIENT}"]\n')
    update_health(db, 1, [DOWN], cfg)
    transport = SmtpTransport.from_url(smtp_rejecting_server.url)
    start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    first = send_notices(db, transport, cfg, now=start)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    row = next(db.db.query("SELECT status, attempts, next_attempt_at FROM notices"))
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] == (start + backoff(1)).isoformat()
    early = send_notices(db, transport, cfg, now=start + timedelta(minutes=1))
    assert early.messages == [] and early.retrying == 0  # still waiting
    for _ in range(MAX_ATTEMPTS - 1):
        last = send_notices(db, transport, cfg, ignore_backoff=True)
    assert (last.failed, last.retrying) == (1, 0)
    row = next(db.db.query("SELECT status, attempts, next_attempt_at FROM notices"))
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    assert smtp_rejecting_server.received == []


def test_maildir_and_dry_run(db: Store, tmp_path: Path) -> None:
    cfg = config(tmp_path, "[health]\nfailing_passes = 1\n")
    update_health(db, 1, [DOWN], cfg)
    update_health(db, 2, [UP], cfg)
    dry = send_notices(db, None, cfg)
    assert len(dry.messages) == 2 and dry.sent == 0
    box = tmp_path / "maildir"
    assert send_notices(db, MaildirTransport(box), cfg).sent == 2
    subjects = sorted(m["Subject"] for m in mailbox.Maildir(box, create=False))
    assert subjects == [
        "[newswatch] source bladi has recovered",
        "[newswatch] source bladi is failing",
    ]


@pytest.mark.parametrize(
    ("health", "key"),
    [
        ("[health]\nfailing_passes = 0\n", "health.failing_passes"),
        ('[health]\noperator = ["not an address"]\n', "health.operator[0]"),
        ("[health]\nfailing = 3\n", "health.failing"),
    ],
)
def test_bad_health_config_names_the_key(tmp_path: Path, health: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        config(tmp_path, health)
