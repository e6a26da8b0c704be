"""The SMTP password never leaves newswatch, in any form, and scrubbing garbles nothing.

A real aiosmtpd server on 127.0.0.1 refuses every login with a 535 that repeats what the
client sent (the AUTH PLAIN blob, the AUTH LOGIN password, the CRAM-MD5 answer), in base64
and decoded: neither the error, the outbox row, ``alerts list`` nor stderr may show it.
"""

from __future__ import annotations

import base64
import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from crawler.cli import main
from pipelines.channels import Message, Unreachable
from pipelines.channels.email import email_message
from pipelines.channels.smtp import WITHHELD, RecipientsRefused, SmtpTransport
from pipelines.errors import DeliveryError
from pipelines.store import open_store, table

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytest_plugins = ["smtpserver"]

USER = "newswatch"
PASSWORD = "s3cret p@ss:word/%"


def secret_forms(password: str, user: str = USER) -> list[str]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    plain_blob = b64(f"\0{user}\0{password}")
    return [password, quote(password, safe=""), b64(password), plain_blob, plain_blob[:-2]]


def leaks(text: str, password: str = PASSWORD) -> list[str]:
    return [form for form in secret_forms(password) if form in text]


def url(server: SmtpServer, password: str = PASSWORD) -> str:
    return f"smtp://{USER}:{quote(password, safe='')}@127.0.0.1:{server.port}"


def a_message() -> Message:
    return Message(
        kind="alert",
        items=(1,),
        subject="test",
        text="text",
        html=None,
        sender="newswatch@example.org",
        recipients={"email": ("analyst@example.org",)},
        message_id="<1@example.org>",
        date=datetime(2026, 3, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_a_535_echoing_the_auth_data_shows_codes_only(
    smtp_server_factory: Callable[..., SmtpServer], mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_server_factory(echo_auth=True, mechanisms=[mechanism])
    transport = SmtpTransport.from_url(url(server))
    msg = email_message(a_message(), ("analyst@example.org",))
    with pytest.raises(Unreachable) as caught:
        transport.send(msg)
    error = caught.value
    assert error.summary == f"login refused by 127.0.0.1:{server.port} (535 5.7.8)"
    assert str(error) == (
        f"SMTP 127.0.0.1:{server.port}: login as 'newswatch' refused (535 5.7.8):"
        " authentication failed: wrong user name or password in NEWSWATCH_SMTP_URL"
    )
    # The smtplib exception (holding the raw reply) is not chained for a traceback to show.
    assert error.__cause__ is None and error.__suppress_context__
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail"))
    assert leaks(str(error)) == [] and leaks(repr(error)) == [] and leaks(ours) == []


def test_the_echoing_server_does_echo(smtp_server_factory: Callable[..., SmtpServer]) -> None:
    """The fault is real: smtplib's own exception carries the base64 password."""
    server = smtp_server_factory(echo_auth=True, mechanisms=["LOGIN"])
    with (
        smtplib.SMTP("127.0.0.1", server.port) as smtp,
        pytest.raises(smtplib.SMTPAuthenticationError) as caught,
    ):
        smtp.login(USER, PASSWORD)
    assert base64.b64encode(PASSWORD.encode()).decode() in str(caught.value)


def test_nothing_a_user_sees_holds_the_password(
    tmp_path: Path, smtp_server_factory: Callable[..., SmtpServer]
) -> None:
    server = smtp_server_factory(echo_auth=True)  # PLAIN and LOGIN, as smtplib tries both
    config = tmp_path / "nw.toml"
    config.write_text(
        '[store]\npath = "nw.db"\n[alerts]\nto = ["analyst@example.org"]\n'
        'from = "newswatch@example.org"\n',
        "utf-8",
    )
    db = open_store(tmp_path / "nw.db").db
    article = (
        table(db, "articles")
        .insert(
            {
                "url": "https://news.example.org/a1",
                "url_key": "news.example.org/a1",
                "source": "bladi",
                "lang": "fr",
                "title": "Article 1",
                "text": "texte",
                "published": "2026-02-28",
                "fetched_at": "2026-03-01T07:00:00+00:00",
                "relevant": 1,
                "topics": "[]",
            }
        )
        .last_pk
    )
    table(db, "alerts").insert(
        {"article_id": article, "topic": "t", "created_at": "2026-03-01T07:00:00+00:00"}
    )
    env = {"NEWSWATCH_SMTP_URL": url(server)}
    runner = CliRunner()
    sent = runner.invoke(main, ["--config", str(config), "alerts", "send"], env=env)
    listed = runner.invoke(main, ["--config", str(config), "alerts", "list"], env=env)

    assert sent.exit_code == 3, sent.output
    assert f"1 kept for the next pass (login refused by 127.0.0.1:{server.port} (535 5.7.8))" in (
        sent.stdout
    )
    assert "Traceback" not in sent.stderr
    assert "login as 'newswatch' refused (535 5.7.8)" in sent.stderr
    stored = [str(r["last_error"]) for r in db.query("SELECT last_error FROM alerts")]
    stored += [str(r) for r in db.query("SELECT * FROM deliveries")]
    for shown in (sent.stdout, sent.stderr, listed.output, *stored):
        assert leaks(shown) == []


def test_a_password_that_is_a_word_garbles_nothing(closed_port: int) -> None:
    transport = SmtpTransport.from_url(f"smtp://{USER}:server@127.0.0.1:{closed_port}")
    with pytest.raises(DeliveryError) as caught:
        transport.check()
    assert "connection refused (is the server running, is the port right?)" in str(caught.value)
    assert "***" not in str(caught.value)


def test_a_reply_holding_the_password_is_withheld_whole_not_edited() -> None:
    reply = (550, b"5.1.1 no such user on this server")
    refused = RecipientsRefused(
        "127.0.0.1:25", {"a@example.org": reply}, delivered=False, secrets=("server",)
    )
    assert str(refused) == (
        f"SMTP 127.0.0.1:25: recipient refused: a@example.org (550 {WITHHELD}); nothing delivered"
    )
    shown = RecipientsRefused(
        "127.0.0.1:25", {"a@example.org": reply}, delivered=False, secrets=("hunter2",)
    )
    assert "550 5.1.1 no such user on this server" in str(shown)
