"""Delivery over real SMTP conversations on 127.0.0.1, into a Maildir, and its settings."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from pipelines.channels import Refused, Unreachable
from pipelines.channels.email import MaildirTransport, email_message, transport_from_env
from pipelines.channels.smtp import (
    RecipientsRefused,
    SmtpSettings,
    SmtpTransport,
    check_smtp,
    parse_smtp_url,
)
from pipelines.errors import ConfigError, DeliveryError
from pipelines.mail import AlertItem, compose_alert

if TYPE_CHECKING:
    from collections.abc import Callable

    from smtpserver import SmtpServer

pytest_plugins = ["smtpserver"]

SENDER = "newswatch <alerts@news.example.org>"
ANALYST = "analyst@example.org"
WRONG_PASSWORD = "Wrong-Hunter2-Pass"


def alert(title: str = "Le Maroc acquiert des drones israéliens", **kwargs: object) -> AlertItem:
    values: dict[str, object] = {
        "alert_id": 7,
        "topic": "morocco-israel-defence",
        "topic_title": "Morocco–Israel defence",
        "article_id": 42,
        "url": "https://fr.hespress.com/301200-maroc-israel-drones.html",
        "title": title,
        "source": "Hespress FR",
        "published": "2023-01-18",
        "lang": "fr",
        "score": 0.82,
        "terms": {"actors": ["Maroc", "Israël"], "defence": ["drones"]},
        "snippet": "le Maroc a signé un accord avec Elbit Systems",
        "copies": [],
        **kwargs,
    }
    return AlertItem(**values)  # type: ignore[arg-type]


def message(*items: AlertItem, to: tuple[str, ...] = (ANALYST,)) -> EmailMessage:
    now = datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    composed = compose_alert(items or (alert(),), sender=SENDER, recipients={"email": to}, now=now)
    return email_message(composed, to)


def bodies(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


def with_password(server: SmtpServer, password: str) -> str:
    assert server.password is not None
    return server.url.replace(quote(server.password, safe=""), quote(password, safe=""))


# --- SMTP ---------------------------------------------------------------------------------


def test_smtp_delivers_title_link_and_reasons(smtp_server: SmtpServer) -> None:
    SmtpTransport.from_url(smtp_server.url).send(message())

    [mail] = smtp_server.received
    assert mail.mail_from == "alerts@news.example.org"
    assert mail.rcpt_tos == (ANALYST,)
    received = mail.message()
    plain, html = bodies(received)
    assert received["Subject"] == "[newswatch] New: Le Maroc acquiert des drones israéliens"
    assert "https://fr.hespress.com/301200-maroc-israel-drones.html" in plain
    assert '<a href="https://fr.hespress.com/301200-maroc-israel-drones.html" style=' in html
    assert "Why: Actors + Defence: Maroc, Israël, drones" in plain


def test_smtp_auth_with_the_right_password_delivers(smtp_auth_server: SmtpServer) -> None:
    SmtpTransport.from_url(smtp_auth_server.url).send(message())

    assert len(smtp_auth_server.received) == 1


def test_smtp_auth_with_a_wrong_password_fails_without_showing_it(
    smtp_auth_server: SmtpServer,
) -> None:
    transport = SmtpTransport.from_url(with_password(smtp_auth_server, WRONG_PASSWORD))

    with pytest.raises(DeliveryError) as caught:
        transport.send(message())

    text = str(caught.value)
    assert f"127.0.0.1:{smtp_auth_server.port}" in text
    assert f"login as '{smtp_auth_server.user}'" in text and "authentication failed" in text
    assert WRONG_PASSWORD not in text and WRONG_PASSWORD not in repr(caught.value)
    assert WRONG_PASSWORD not in repr(transport)
    assert smtp_auth_server.received == []


def test_smtp_server_that_requires_auth_refuses_an_anonymous_sender(
    smtp_auth_server: SmtpServer,
) -> None:
    with pytest.raises(DeliveryError, match="sender alerts@news.example.org refused: 530"):
        SmtpTransport.from_url(f"smtp://127.0.0.1:{smtp_auth_server.port}").send(message())


def test_starttls_with_a_trusted_certificate(smtp_starttls_server: SmtpServer) -> None:
    context = smtp_starttls_server.client_context()
    SmtpTransport.from_url(smtp_starttls_server.url, context=context).send(message())

    assert len(smtp_starttls_server.received) == 1


def test_starttls_with_an_untrusted_certificate_fails(smtp_starttls_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS failed: TLS certificate not trusted"):
        SmtpTransport.from_url(smtp_starttls_server.url).send(message())
    assert smtp_starttls_server.received == []


def test_starttls_without_verification_when_the_url_says_so(
    smtp_starttls_server: SmtpServer,
) -> None:
    SmtpTransport.from_url(smtp_starttls_server.url + "&verify_tls=0").send(message())

    assert len(smtp_starttls_server.received) == 1


def test_starttls_asked_of_a_server_that_does_not_offer_it(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS failed: not supported by the server"):
        SmtpTransport.from_url(smtp_server.url + "?starttls=1").send(message())


def test_implicit_tls(smtps_server: SmtpServer) -> None:
    context = smtps_server.client_context()
    SmtpTransport.from_url(smtps_server.url, context=context).send(message())

    assert len(smtps_server.received) == 1


def test_server_down_names_host_and_port(closed_port: int) -> None:
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport.from_url(f"smtp://127.0.0.1:{closed_port}").send(message())

    assert str(caught.value) == (
        f"SMTP 127.0.0.1:{closed_port}: connecting failed: connection refused "
        "(is the server running, is the port right?)"
    )
    assert isinstance(caught.value, Unreachable)  # not reached: costs the message nothing


def test_server_that_never_greets_times_out(silent_port: int) -> None:
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{silent_port}: .*\(timeout\)"):
        SmtpTransport.from_url(f"smtp://127.0.0.1:{silent_port}?timeout=0.2").send(message())


def test_refused_recipient_is_a_delivery_error(smtp_rejecting_server: SmtpServer) -> None:
    transport = SmtpTransport.from_url(smtp_rejecting_server.url)
    [rejected] = smtp_rejecting_server.rejected

    with pytest.raises(RecipientsRefused) as caught:
        transport.send(message(to=(rejected,)))

    assert isinstance(caught.value, DeliveryError) and isinstance(caught.value, Refused)
    assert caught.value.delivered is False
    assert f"recipient refused: {rejected} (550 5.1.1" in str(caught.value)
    assert smtp_rejecting_server.received == []


def test_one_refused_recipient_among_two_says_the_other_got_it(
    smtp_rejecting_server: SmtpServer,
) -> None:
    transport = SmtpTransport.from_url(smtp_rejecting_server.url)
    [rejected] = smtp_rejecting_server.rejected

    with pytest.raises(RecipientsRefused) as caught:
        transport.send(message(to=(ANALYST, rejected)))

    assert caught.value.delivered is True
    assert list(caught.value.refused) == [rejected]
    assert [mail.rcpt_tos for mail in smtp_rejecting_server.received] == [(ANALYST,)]


def test_hostile_title_adds_no_recipient_and_no_header(smtp_server: SmtpServer) -> None:
    hostile = alert("<script>alert(1)</script>\r\nBcc: x@y.example\r\nX-Injected: yes")
    SmtpTransport.from_url(smtp_server.url).send(message(hostile))

    [mail] = smtp_server.received
    received = mail.message()
    _, html = bodies(received)
    assert mail.rcpt_tos == (ANALYST,)
    assert received["Bcc"] is None and received["X-Injected"] is None
    assert "\n" not in received["Subject"]
    assert received["Subject"].startswith("[newswatch] New: <script>alert(1)</script> Bcc: x@y")
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_arabic_and_french_survive_a_real_smtp_round_trip(smtp_server: SmtpServer) -> None:
    arabic = "المغرب وإسرائيل يوقعان اتفاقية دفاعية لتصنيع الطائرات المسيرة"
    item = alert(arabic, lang="ar", snippet="وقع المغرب وإسرائيل — défense, Israël, été")
    SmtpTransport.from_url(smtp_server.url).send(message(item))

    received = smtp_server.received[0].message()
    plain, html = bodies(received)
    assert received["Subject"] == f"[newswatch] New: {arabic}"
    assert arabic in plain and arabic in html
    assert "وقع المغرب وإسرائيل — défense, Israël, été" in plain


def test_display_names_in_arabic_reach_the_right_envelope_recipients(
    smtp_server: SmtpServer,
) -> None:
    to = (
        "وحدة التحليل العسكري المغربية الإسرائيلية <analyst@example.org>",
        "Équipe <d@example.org>",
    )
    SmtpTransport.from_url(smtp_server.url).send(message(to=to))
    (mail,) = smtp_server.received
    assert mail.rcpt_tos == ("analyst@example.org", "d@example.org")
    assert mail.mail_from == "alerts@news.example.org"


def test_before_data_runs_once_the_session_is_up_and_not_when_it_is_not(
    smtp_auth_server: SmtpServer,
) -> None:
    calls: list[int] = []
    SmtpTransport.from_url(smtp_auth_server.url).send(message(), lambda: calls.append(1))
    assert calls == [1] and len(smtp_auth_server.received) == 1
    with pytest.raises(DeliveryError, match="authentication failed"):
        SmtpTransport.from_url(with_password(smtp_auth_server, WRONG_PASSWORD)).send(
            message(), lambda: calls.append(2)
        )
    assert calls == [1]


def test_resent_alert_keeps_its_message_id(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport.from_url(smtp_server.url)
    transport.send(message())
    transport.send(message())

    first, second = (mail.message()["Message-ID"] for mail in smtp_server.received)
    assert first == second
    assert first.endswith("@news.example.org>")


def test_check_smtp_logs_in_without_sending(smtp_starttls_server: SmtpServer) -> None:
    settings = parse_smtp_url(smtp_starttls_server.url)

    check_smtp(settings, context=smtp_starttls_server.client_context())

    assert smtp_starttls_server.received == []


def test_check_smtp_reports_a_wrong_password(smtp_auth_server: SmtpServer) -> None:
    settings = parse_smtp_url(with_password(smtp_auth_server, WRONG_PASSWORD))

    with pytest.raises(DeliveryError, match="authentication failed") as caught:
        check_smtp(settings)
    assert WRONG_PASSWORD not in str(caught.value)


# --- Maildir ------------------------------------------------------------------------------


def test_maildir_delivery_writes_one_readable_file(tmp_path: Path) -> None:
    maildir = tmp_path / "mail" / "alerts"  # parents are created too
    transport = MaildirTransport(maildir)
    transport.send(message())

    assert len(mailbox.Maildir(maildir, create=False)) == 1
    assert transport.last_path is not None
    assert list((maildir / "new").iterdir()) == [transport.last_path]
    stored = BytesParser(policy=policy.default).parsebytes(transport.last_path.read_bytes())
    assert isinstance(stored, EmailMessage)
    assert stored["Subject"] == "[newswatch] New: Le Maroc acquiert des drones israéliens"
    assert "Why: Actors + Defence: Maroc, Israël" in bodies(stored)[0]


def test_maildir_that_cannot_be_written_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the Maildir should be")

    with pytest.raises(DeliveryError, match="not-a-dir: cannot write the message"):
        MaildirTransport(blocker).send(message())


# --- NEWSWATCH_SMTP_URL -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org:25", SmtpSettings("mail.example.org", 25)),
        ("smtp://mail.example.org", SmtpSettings("mail.example.org", 25)),
        (
            "smtp://user:pass@mail.example.org:587?starttls=1",
            SmtpSettings("mail.example.org", 587, "user", "pass", starttls=True),
        ),
        (
            "smtps://user:pass@mail.example.org:465",
            SmtpSettings("mail.example.org", 465, "user", "pass", implicit_tls=True),
        ),
        ("smtps://mail.example.org", SmtpSettings("mail.example.org", 465, implicit_tls=True)),
        ("smtp://mail.example.org?timeout=10", SmtpSettings("mail.example.org", 25, timeout=10)),
        (
            "SMTP://al%40ice:p%40ss%3Aw%2Fo%25rd%20x@Mail.Example.org:2525/",
            SmtpSettings("mail.example.org", 2525, "al@ice", "p@ss:w/o%rd x"),
        ),
        (
            "smtp://[::1]:2525?starttls=yes&verify_tls=0",
            SmtpSettings("::1", 2525, starttls=True, verify_tls=False),
        ),
    ],
)
def test_parse_smtp_url(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://user:hunter2@mail.example.org", "scheme must be smtp:// or smtps://"),
        ("mail.example.org:25", "scheme must be smtp:// or smtps://"),
        ("smtp://", "no host name"),
        ("smtp://user:hunter2", "not a valid URL"),  # urllib would quote 'hunter2' as the port
        ("smtp://user:hunter2@mail.example.org:99999", "not a valid URL"),
        ("smtp://user:hunter2@mail.example.org:0", "port 0"),
        ("smtp://user@mail.example.org", "without a password"),
        ("smtp://:hunter2@mail.example.org", "without a user name"),
        ("smtp://user:hunter2%C3%A9@mail.example.org", "must be ASCII"),
        ("smtp://user:hunter2@mail.example.org?starttls=maybe", "starttls must be 1 or 0"),
        ("smtp://user:hunter2@mail.example.org?tls=1", "unknown option 'tls'"),
        ("smtp://user:hunter2@mail.example.org?timeout=0", "timeout must be"),
        ("smtp://user:hunter2@mail.example.org?timeout=soon", "timeout must be"),
        ("smtps://user:hunter2@mail.example.org?starttls=1", "already uses TLS"),
        ("smtp://user:hunter2@mail.example.org/relay", "unexpected path"),
    ],
)
def test_bad_smtp_url_is_a_config_error_that_hides_the_password(url: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        parse_smtp_url(url)

    assert str(caught.value).startswith("NEWSWATCH_SMTP_URL: NEWSWATCH_SMTP_URL: ")
    assert "hunter2" not in str(caught.value)


def test_settings_repr_hides_the_password() -> None:
    settings = parse_smtp_url("smtp://user:hunter2@mail.example.org:587?starttls=1")

    assert "hunter2" not in repr(settings)
    assert "password='***'" in repr(settings)
    assert "hunter2" not in repr(SmtpTransport(settings))
    assert SmtpTransport(settings).describe() == ("SMTP mail.example.org:587 (STARTTLS, as user)")


def test_env_with_a_url_gives_smtp() -> None:
    env = {"NEWSWATCH_SMTP_URL": "smtp://user:hunter2@mail.example.org:587?starttls=1"}

    transport = transport_from_env(env, Path("unused"))

    assert isinstance(transport, SmtpTransport)
    assert transport.settings.address == "mail.example.org:587"


@pytest.mark.parametrize("env", [{}, {"NEWSWATCH_SMTP_URL": ""}, {"NEWSWATCH_SMTP_URL": "  "}])
def test_env_without_a_url_gives_the_maildir(env: dict[str, str], tmp_path: Path) -> None:
    transport = transport_from_env(env, tmp_path / "alerts")

    assert isinstance(transport, MaildirTransport)
    assert transport.path == tmp_path / "alerts"
    assert transport.describe() == f"Maildir {tmp_path / 'alerts'}"


def test_neither_url_nor_maildir_names_both() -> None:
    with pytest.raises(ConfigError) as caught:
        transport_from_env({}, None)

    assert caught.value.key == "[alerts] maildir"
    assert "NEWSWATCH_SMTP_URL" in str(caught.value)


def test_bad_url_in_the_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NEWSWATCH_SMTP_URL"):
        transport_from_env({"NEWSWATCH_SMTP_URL": "smtp://user:hunter2"}, None)


def test_factory_starts_other_combinations(
    smtp_server_factory: Callable[..., SmtpServer],
) -> None:
    server = smtp_server_factory(tls="implicit", reject=["nobody@example.org"])
    transport = SmtpTransport.from_url(server.url, context=server.client_context())

    with pytest.raises(RecipientsRefused):
        transport.send(message(to=("nobody@example.org",)))
    transport.send(message())

    assert len(server.received) == 1
