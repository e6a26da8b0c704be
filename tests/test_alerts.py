"""The outbox on a real store and real SMTP servers on 127.0.0.1: backoff, held mail
when the server is down, flood control, subject templates, per-topic recipients, and dry
runs that change nothing. The tests that send through the store run on a SQLite file and
on PostgreSQL (``db``); the ``newswatch alerts`` commands read the config's SQLite file
(``sqlite_db``)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from crawler.cli import main
from pipelines.channels.email import EmailChannel, MaildirTransport, email_message
from pipelines.channels.smtp import SmtpTransport
from pipelines.config import Config, parse_config
from pipelines.errors import ConfigError
from pipelines.outbox import MAX_ATTEMPTS, SendReport, backoff, send_all
from pipelines.store import Store, open_store

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytest_plugins = ["smtpserver", "services.postgres"]

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BASE_TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
maildir = "mail"
"""


def make_config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "nw.toml"
    path.write_text(BASE_TOML + extra, encoding="utf-8")
    return parse_config(tomllib.loads(path.read_text("utf-8")), path)


def insert_row(db: sqlite_utils.Database, name: str, row: dict[str, Any]) -> int:
    marks = ", ".join("?" * len(row))
    pk = db.execute(f"INSERT INTO {name} ({', '.join(row)}) VALUES ({marks})", list(row.values()))
    assert isinstance(pk.lastrowid, int)
    return pk.lastrowid


def store_of(db: sqlite_utils.Database, cfg: Config) -> Store:
    """The store over ``db``'s connection, whichever the backend."""
    if isinstance(db, sqlite_utils.Database):
        return Store(db, cfg.store_path)
    from pipelines.store.pg_ops import PostgresStore

    return PostgresStore(db, "postgresql")


def send_pending(
    db: sqlite_utils.Database,
    transport: SmtpTransport | MaildirTransport | None,
    cfg: Config,
    **options: Any,
) -> SendReport:
    """One send over the email channel (``transport`` None: a dry run)."""
    store = store_of(db, cfg)
    if transport is None:
        return send_all(store, cfg, [], dry_run=True, **options)
    return send_all(store, cfg, [EmailChannel(transport)], **options)


def email(report: SendReport) -> EmailMessage:
    """The one message of a dry run, as the email channel would write it."""
    (out,) = report.messages
    return email_message(out.message, out.message.recipients["email"])


def add_article(
    db: sqlite_utils.Database, n: int, topics: tuple[str, ...] = ("morocco-israel-defence",)
) -> int:
    matches = [
        {"topic": t, "score": 0.9, "terms": {"actors": ["Maroc"]}, "snippet": f"extrait {n}"}
        for t in topics
    ]
    article_id = insert_row(
        db,
        "articles",
        {
            "url": f"https://news.example.org/a{n}",
            "url_key": f"news.example.org/a{n}",
            "source": "bladi",
            "lang": "fr",
            "title": f"Article {n}",
            "text": f"texte {n}",
            "published": "2026-02-28",
            "fetched_at": "2026-03-01T07:00:00+00:00",
            "relevant": 1,
            "topics": json.dumps(matches),
        },
    )
    for t in topics:
        insert_row(
            db,
            "alerts",
            {"article_id": article_id, "topic": t, "created_at": "2026-03-01T07:00:00+00:00"},
        )
    return article_id


def outbox(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return [dict(r) for r in db.query("SELECT * FROM alerts ORDER BY id")]


@pytest.fixture
def db(open_backend_store: Callable[[], Store]) -> sqlite_utils.Database:
    """The connection of a store on each backend (PostgreSQL's speaks the same calls)."""
    return open_backend_store().db


@pytest.fixture
def sqlite_db(tmp_path: Path) -> sqlite_utils.Database:
    """The SQLite file of the config the ``newswatch alerts`` commands read."""
    return open_store(tmp_path / "nw.db").db


def test_backoff_doubles_from_five_minutes_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert backoff(30) == timedelta(hours=6)


def test_a_refused_message_waits_out_its_backoff_then_fails_after_max_attempts(
    tmp_path: Path, db: sqlite_utils.Database, smtp_rejecting_server: SmtpServer
) -> None:
    cfg = parse_config(
        tomllib.loads(BASE_TOML.replace("analyst@example.org", "nobody@example.org")),
        tmp_path / "nw.toml",
    )
    add_article(db, 1)
    smtp = SmtpTransport.from_url(smtp_rejecting_server.url)

    first = send_pending(db, smtp, cfg, now=T0)
    (row,) = outbox(db)
    assert (first.retrying, first.sent, row["status"], row["attempts"]) == (1, 0, "pending", 1)
    assert row["next_attempt_at"] == (T0 + timedelta(minutes=5)).isoformat()
    assert "nobody@example.org" in row["last_error"]

    early = send_pending(db, smtp, cfg, now=T0 + timedelta(minutes=4))
    assert (early.waiting, early.retrying, outbox(db)[0]["attempts"]) == (1, 0, 1)
    assert early.next_attempt_at == row["next_attempt_at"]

    moment = T0
    for attempt in range(2, MAX_ATTEMPTS + 1):
        moment += backoff(attempt - 1)
        report = send_pending(db, smtp, cfg, now=moment)
        assert outbox(db)[0]["attempts"] == attempt
    (row,) = outbox(db)
    assert (row["status"], row["next_attempt_at"], report.failed) == ("failed", None, 1)
    assert report.failed_total == 1
    assert smtp_rejecting_server.received == []


def test_send_now_ignores_the_backoff(
    tmp_path: Path, db: sqlite_utils.Database, smtp_server: SmtpServer
) -> None:
    cfg = make_config(tmp_path)
    add_article(db, 1)
    db.execute("UPDATE alerts SET attempts = 1, next_attempt_at = ?", [T0.isoformat()])
    smtp = SmtpTransport.from_url(smtp_server.url)
    assert send_pending(db, smtp, cfg, now=T0 - timedelta(minutes=1)).sent == 0
    assert send_pending(db, smtp, cfg, now=T0 - timedelta(minutes=1), ignore_backoff=True).sent
    assert len(smtp_server.received) == 1
    assert outbox(db)[0]["status"] == "sent"


def test_server_down_costs_no_attempt_and_the_next_send_delivers_each_once(
    tmp_path: Path, db: sqlite_utils.Database, closed_port: int, smtp_server: SmtpServer
) -> None:
    cfg = make_config(tmp_path)
    for n in range(3):
        add_article(db, n)
    down = send_pending(db, SmtpTransport.from_url(f"smtp://127.0.0.1:{closed_port}"), cfg)
    assert (down.held, down.sent, down.undelivered) == (3, 0, True)
    assert [(r["status"], r["attempts"]) for r in outbox(db)] == [("pending", 0)] * 3
    assert f"127.0.0.1:{closed_port}" in outbox(db)[0]["last_error"]

    up = send_pending(db, SmtpTransport.from_url(smtp_server.url), cfg)
    again = send_pending(db, SmtpTransport.from_url(smtp_server.url), cfg)
    assert (up.sent, again.sent) == (3, 0)
    subjects = sorted(m.message()["Subject"] for m in smtp_server.received)
    assert subjects == [f"[newswatch] New: Article {n}" for n in range(3)]


def test_when_the_server_is_down_the_notices_wait_without_another_try(
    tmp_path: Path, sqlite_db: sqlite_utils.Database, closed_port: int
) -> None:
    config = tmp_path / "nw.toml"
    config.write_text(BASE_TOML, "utf-8")
    add_article(sqlite_db, 1)
    notice = {"source": "bladi", "kind": "failing", "run_id": 1, "detail": "{}"}
    insert_row(sqlite_db, "notices", {**notice, "created_at": T0.isoformat(), "status": "pending"})
    env = {"NEWSWATCH_SMTP_URL": f"smtp://127.0.0.1:{closed_port}"}
    result = CliRunner().invoke(main, ["--config", str(config), "alerts", "send"], env=env)
    assert result.exit_code == 3, result.output
    assert "1 kept for the next pass (server not reached)" in result.output
    [row] = sqlite_db.query("SELECT status, attempts, last_error FROM notices")
    assert row == {"status": "pending", "attempts": 0, "last_error": None}  # not tried


def test_beyond_max_per_pass_the_rest_go_in_one_digest_in_pages(
    tmp_path: Path, db: sqlite_utils.Database, smtp_server: SmtpServer
) -> None:
    cfg = make_config(tmp_path, "max_per_pass = 2\nmax_items_per_email = 2\n")
    for n in range(5):
        add_article(db, n)
    report = send_pending(db, SmtpTransport.from_url(smtp_server.url), cfg)
    assert report.sent == 5
    subjects = [m.message()["Subject"] for m in smtp_server.received]
    assert subjects[:2] == ["[newswatch] New: Article 0", "[newswatch] New: Article 1"]
    assert len(subjects) == 4
    assert subjects[2].startswith("[newswatch] 2 new: ") and subjects[2].endswith(" (1/2)")
    assert subjects[3] == "[newswatch] New: Article 4 (2/2)"
    last = smtp_server.received[3].message().get_body(("plain",))
    assert last is not None and "Article 4" in last.get_content()
    assert "(part 2 of 2)" in last.get_content()


def test_subject_template_and_its_unknown_placeholder(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    cfg = make_config(tmp_path, 'subject = "[nw] {count} new: {title} ({source})"\n')
    add_article(db, 1)
    msg = email(send_pending(db, None, cfg))
    assert msg["Subject"] == "[nw] 1 new: Article 1 (bladi)"
    with pytest.raises(ConfigError, match=r"alerts\.subject: unknown placeholder \{when\}"):
        make_config(tmp_path, 'subject = "{count} {when}"\n')


def test_each_topic_goes_to_its_own_recipients(
    tmp_path: Path, db: sqlite_utils.Database, smtp_server: SmtpServer
) -> None:
    cfg = make_config(
        tmp_path,
        '[[topics]]\nname = "defence"\nrecipients = ["defence@example.org"]\n'
        '[[topics]]\nname = "cyber"\ntitle = "Cyber"\n',
    )
    add_article(db, 1, ("defence",))
    add_article(db, 2, ("cyber",))
    send_pending(db, SmtpTransport.from_url(smtp_server.url), cfg)
    got = {m.message()["Subject"]: m.rcpt_tos for m in smtp_server.received}
    assert got == {
        "[newswatch] New: Article 1": ("defence@example.org",),
        "[newswatch] New: Article 2": ("analyst@example.org",),
    }


def test_copies_at_other_sites_are_listed(tmp_path: Path, db: sqlite_utils.Database) -> None:
    cfg = make_config(tmp_path)
    original = add_article(db, 1)
    insert_row(
        db,
        "articles",
        {
            "url": "https://copies.example.net/same-story",
            "url_key": "copies.example.net/same-story",
            "source": "other",
            "text": "texte 1",
            "fetched_at": "2026-03-01T07:30:00+00:00",
            "duplicate_of": original,
        },
    )
    msg = email(send_pending(db, None, cfg))
    body = msg.get_body(("plain",))
    assert body is not None
    assert "Copies:\n     - https://copies.example.net/same-story" in body.get_content()


def test_resend_puts_a_failed_alert_back_with_fresh_attempts(
    tmp_path: Path, db: sqlite_utils.Database, smtp_server: SmtpServer
) -> None:
    cfg = make_config(tmp_path)
    add_article(db, 1)
    db.execute("UPDATE alerts SET status = 'failed', attempts = 5, last_error = 'x'")
    assert store_of(db, cfg).resend_alerts([1, 99]) == 1
    assert send_pending(db, SmtpTransport.from_url(smtp_server.url), cfg).sent == 1
    (row,) = outbox(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)


@pytest.mark.parametrize(
    "command",
    [
        ["alerts", "send", "--dry-run"],
        ["alerts", "preview"],
        ["alerts", "preview", "--chat"],
        ["alerts", "preview", "1", "--html", "{tmp}/out.html"],
    ],
)
def test_dry_run_and_preview_print_the_next_message_and_change_nothing(
    tmp_path: Path, sqlite_db: sqlite_utils.Database, command: list[str]
) -> None:
    make_config(tmp_path)
    for n in range(2):
        add_article(sqlite_db, n)
    sqlite_db.execute(
        "UPDATE alerts SET attempts = 2, last_error = 'refused', next_attempt_at = ? WHERE id = 2",
        [(T0 - timedelta(days=1)).isoformat()],
    )
    before = outbox(sqlite_db)
    command = [part.replace("{tmp}", str(tmp_path)) for part in command]
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nw.toml"), *command])
    assert result.exit_code == 0, result.output
    assert "Article 0" in result.output
    if "--html" in command:
        assert "Article 0" in (tmp_path / "out.html").read_text("utf-8")
    assert outbox(sqlite_db) == before
    assert not (tmp_path / "mail").exists()


def test_preview_with_nothing_queued_says_so(
    tmp_path: Path, sqlite_db: sqlite_utils.Database
) -> None:
    make_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nw.toml"), "alerts", "preview"])
    assert result.exit_code == 0
    assert "no alert is waiting" in result.output


def test_alerts_list_shows_why_an_alert_failed(
    tmp_path: Path, sqlite_db: sqlite_utils.Database
) -> None:
    make_config(tmp_path)
    add_article(sqlite_db, 1)
    sqlite_db.execute(
        "UPDATE alerts SET status = 'failed', attempts = 5, last_error = '550 no such user'"
    )
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "nw.toml"), "alerts", "list", "--status", "failed"]
    )
    assert result.exit_code == 0
    assert "failed" in result.output and "attempts 5; last error: 550 no such user" in result.output


def test_send_command_reports_the_backoff_and_now_retries_at_once(
    tmp_path: Path, sqlite_db: sqlite_utils.Database, smtp_rejecting_server: SmtpServer
) -> None:
    config = tmp_path / "nw.toml"
    config.write_text(BASE_TOML.replace("analyst@example.org", "nobody@example.org"), "utf-8")
    add_article(sqlite_db, 1)
    env = {"NEWSWATCH_SMTP_URL": smtp_rejecting_server.url}
    runner = CliRunner()

    def send(*flags: str) -> Any:
        return runner.invoke(main, ["--config", str(config), "alerts", "send", *flags], env=env)

    refused = send()
    assert refused.exit_code == 3
    assert "alerts: 0 sent via SMTP" in refused.output and "1 waiting to retry (next try 20" in (
        refused.output
    )
    waiting = send()
    assert waiting.exit_code == 0  # nothing was due, so nothing failed
    assert "1 waiting to retry" in waiting.output
    assert outbox(sqlite_db)[0]["attempts"] == 1
    forced = send("--now")
    assert forced.exit_code == 3
    assert outbox(sqlite_db)[0]["attempts"] == 2


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('subject = "{title:d}"', "alerts.subject: not a valid template"),
        ('subject = "{count"', "alerts.subject: not a valid template"),
        ('subject = "{}"', r"alerts.subject: unknown placeholder \{\}"),
        ("max_per_pass = -1", "alerts.max_per_pass: must be >= 0"),
        ("max_items_per_email = 0", "alerts.max_items_per_email: must be >= 1"),
        ('to = ["a@example.org, b@example.org"]', r"alerts.to\[0\]: not an email address"),
    ],
)
def test_bad_alert_settings_name_the_key(tmp_path: Path, line: str, complaint: str) -> None:
    text = BASE_TOML.replace('to = ["analyst@example.org"]\n', "") + line + "\n"
    path = tmp_path / "nw.toml"
    with pytest.raises(ConfigError, match=complaint):
        parse_config(tomllib.loads(text), path)
