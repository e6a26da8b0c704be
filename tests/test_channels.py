"""Channels as plugins: a webhook channel added as one module plus configuration, delivery
state per (item, channel) in ``deliveries``, the summary kept in ``alerts``, and the
migration that opened ``deliveries`` for what was queued or sent before.

The webhook is a real HTTP server on 127.0.0.1 (port 0, in a thread); email goes into a
real Maildir."""

from __future__ import annotations

import json
import mailbox
import sys
import textwrap
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipelines.channels import ChannelSetup, Claim, Message, find_factory
from pipelines.channels.email import EmailChannel
from pipelines.config import Config, parse_config
from pipelines.errors import ConfigError
from pipelines.outbox import INTERRUPTED, open_channels, send_all
from pipelines.store import Store, migrate, open_store, table

# The whole of a webhook channel: what a contributor adds, nothing else.
WEBHOOK_MODULE = '''
"""A webhook channel: each message POSTed as JSON to the URL in $NEWSWATCH_WEBHOOK_URL."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from pipelines.channels import ChannelSetup, Claim, Message, Refused, Unreachable
from pipelines.errors import ConfigError


class Webhook:
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = urlsplit(url)

    def describe(self) -> str:
        return f"webhook {self.url.hostname}:{self.url.port}"

    def send(self, message: Message, claim: Claim) -> None:
        conn = http.client.HTTPConnection(self.url.hostname or "", self.url.port, timeout=10)
        try:
            try:
                conn.connect()
            except OSError as exc:
                raise Unreachable(f"webhook {self.url.netloc}: {exc}") from exc
            claim()  # connected: from here on, the message may arrive
            body = {"kind": message.kind, "subject": message.subject, "text": message.text}
            headers = {"Content-Type": "application/json", "Idempotency-Key": message.message_id}
            conn.request("POST", self.url.path or "/", json.dumps(body), headers)
            status = conn.getresponse().status
        finally:
            conn.close()
        if status >= 300:
            raise Refused(f"webhook {self.url.netloc}: HTTP {status}")


def make_channel(setup: ChannelSetup) -> Webhook:
    url = setup.environ.get("NEWSWATCH_WEBHOOK_URL", "")
    if not url:
        raise ConfigError(setup.where, f"channels.{setup.name}", "NEWSWATCH_WEBHOOK_URL is not set")
    return Webhook(setup.name, url)
'''

BASE_TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
maildir = "mail"
"""
WEBHOOK_TOML = """
[channels.webhook]
factory = "nw_webhook:make_channel"
"""


class Hook:
    """A webhook receiver on 127.0.0.1: records each POST, answers ``status``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                hook.received.append({**body, "key": self.headers["Idempotency-Key"]})
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook module, written where Python finds it, as a contributor's would be."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "nw_webhook.py").write_text(textwrap.dedent(WEBHOOK_MODULE), "utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "nw_webhook", raising=False)


def make_config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "nw.toml"
    path.write_text(BASE_TOML + extra, encoding="utf-8")
    return parse_config(tomllib.loads(path.read_text("utf-8")), path)


def with_channels(tmp_path: Path, *names: str) -> Config:
    listed = ", ".join(f'"{n}"' for n in names)
    toml = BASE_TOML.replace("[alerts]\n", f"[alerts]\nchannels = [{listed}]\n") + WEBHOOK_TOML
    path = tmp_path / "nw.toml"
    path.write_text(toml, encoding="utf-8")
    return parse_config(tomllib.loads(toml), path)


def add_alert(store: Store, n: int) -> int:
    db = store.db
    article = table(db, "articles").insert(
        {
            "url": f"https://news.example.org/a{n}",
            "url_key": f"news.example.org/a{n}",
            "source": "bladi",
            "title": f"Article {n}",
            "text": f"texte {n}",
            "fetched_at": "2026-03-01T07:00:00+00:00",
            "relevant": 1,
            "topics": json.dumps([{"topic": "defence", "score": 0.9}]),
        }
    )
    row = {"article_id": article.last_pk, "topic": "defence", "created_at": "2026-03-01"}
    pk = table(db, "alerts").insert(row).last_pk
    assert isinstance(pk, int)
    return pk


def alert_row(store: Store, alert_id: int) -> dict[str, Any]:
    return dict(next(store.db.query("SELECT * FROM alerts WHERE id = ?", [alert_id])))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "nw.db") as opened:
        yield opened


@pytest.mark.usefixtures("plugin")
def test_a_webhook_channel_is_one_module_plus_config_and_delivers_once(
    tmp_path: Path, store: Store, hook: Hook
) -> None:
    config = with_channels(tmp_path, "webhook")
    alert_id = add_alert(store, 1)
    channels = open_channels(config, {"NEWSWATCH_WEBHOOK_URL": hook.url})
    assert [c.name for c in channels] == ["webhook"]

    first = send_all(store, config, channels)
    second = send_all(store, config, open_channels(config, {"NEWSWATCH_WEBHOOK_URL": hook.url}))

    assert (first.sent, second.sent, first.channels["webhook"].sent) == (1, 0, 1)
    (posted,) = hook.received
    assert posted["subject"] == "[newswatch] New: Article 1"
    assert posted["key"].startswith(f"<newswatch.alert-{alert_id}.")
    assert "https://news.example.org/a1" in posted["text"]
    assert store.deliveries("alert", alert_id)["webhook"]["status"] == "sent"
    assert alert_row(store, alert_id)["status"] == "sent"
    assert not (tmp_path / "mail").exists()  # email is not enabled


@pytest.mark.usefixtures("plugin")
def test_each_channel_keeps_its_own_state_and_the_alert_row_sums_them_up(
    tmp_path: Path, store: Store, hook: Hook
) -> None:
    config = with_channels(tmp_path, "email", "webhook")
    alert_id = add_alert(store, 1)
    env = {"NEWSWATCH_WEBHOOK_URL": hook.url}
    hook.status = 500

    refused = send_all(store, config, open_channels(config, env))
    assert (refused.channels["email"].sent, refused.channels["webhook"].retrying) == (1, 1)
    state = store.deliveries("alert", alert_id)
    assert (state["email"]["status"], state["email"]["attempts"]) == ("sent", 1)
    assert (state["webhook"]["status"], state["webhook"]["attempts"]) == ("pending", 1)
    summary = alert_row(store, alert_id)
    assert (summary["status"], summary["attempts"]) == ("pending", 1)
    assert summary["next_attempt_at"] == state["webhook"]["next_attempt_at"]
    netloc = hook.url.split("/")[2]
    assert summary["last_error"] == f"webhook: webhook {netloc}: HTTP 500"  # channel: error

    hook.status = 200
    retried = send_all(store, config, open_channels(config, env), ignore_backoff=True)
    assert (retried.channels["email"].sent, retried.channels["webhook"].sent) == (0, 1)
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 1  # email went once
    assert len(hook.received) == 2  # refused once, then delivered
    summary = alert_row(store, alert_id)
    assert (summary["status"], summary["attempts"], summary["last_error"]) == ("sent", 2, None)
    assert json.loads(summary["recipients"]) == ["analyst@example.org"]


@pytest.mark.usefixtures("plugin")
def test_a_channel_enabled_later_gets_only_what_is_still_pending(
    tmp_path: Path, store: Store, hook: Hook
) -> None:
    old = add_alert(store, 1)
    send_all(store, make_config(tmp_path), open_channels(make_config(tmp_path), {}))
    new = add_alert(store, 2)

    config = with_channels(tmp_path, "email", "webhook")
    send_all(store, config, open_channels(config, {"NEWSWATCH_WEBHOOK_URL": hook.url}))

    assert [p["subject"] for p in hook.received] == ["[newswatch] New: Article 2"]
    assert set(store.deliveries("alert", old)) == {"email"}
    assert set(store.deliveries("alert", new)) == {"email", "webhook"}


@pytest.mark.usefixtures("plugin")
def test_a_dry_run_shows_each_channel_its_messages_and_changes_nothing(
    tmp_path: Path, store: Store
) -> None:
    config = with_channels(tmp_path, "email", "webhook")
    add_alert(store, 1)
    before = alert_row(store, 1)
    report = send_all(store, config, [], dry_run=True)
    assert [(o.channel, o.message.subject) for o in report.messages] == [
        ("email", "[newswatch] New: Article 1"),
        ("webhook", "[newswatch] New: Article 1"),
    ]
    assert alert_row(store, 1) == before
    assert list(store.db.query("SELECT * FROM deliveries")) == []


class Broken:
    """A channel with a bug that strikes after it claimed the message."""

    name = "broken"

    def describe(self) -> str:
        return "broken"

    def send(self, message: Message, claim: Claim) -> None:
        claim()
        raise KeyError("oops")


def test_a_channel_that_breaks_after_claiming_leaves_the_message_failed_not_resent(
    tmp_path: Path, store: Store
) -> None:
    config = make_config(tmp_path)
    alert_id = add_alert(store, 1)
    maildir = EmailChannel(open_channels(config, {})[0].transport)  # type: ignore[attr-defined]
    report = send_all(store, config, [Broken(), maildir])
    assert (report.channels["broken"].failed, report.channels["email"].sent) == (1, 1)
    broken = store.deliveries("alert", alert_id)["broken"]
    assert broken["status"] == "failed" and broken["last_error"].endswith(INTERRUPTED)
    assert send_all(store, config, [Broken()]).sent == 0  # never again by itself


def test_the_migration_opens_an_email_delivery_for_every_alert_and_notice(
    tmp_path: Path, store: Store
) -> None:
    sent, waiting = add_alert(store, 1), add_alert(store, 2)
    db = store.db
    db.execute(
        "UPDATE alerts SET status = 'sent', attempts = 1, sent_at = 'T', message_id = '<m>'"
        " WHERE id = ?",
        [sent],
    )
    db.execute(
        "UPDATE alerts SET attempts = 2, next_attempt_at = 'N', last_error = 'e' WHERE id = ?",
        [waiting],
    )
    notice = store.queue_notice(source="bladi", kind="failing", run_id=1, detail="{}")
    db.execute("DELETE FROM _migrations WHERE name = 'm009_deliveries_per_channel'")
    db.execute("DROP TABLE deliveries")

    assert migrate(db) == ["m009_deliveries_per_channel"]
    rows = {
        (r["kind"], r["item_id"]): r
        for r in db.query("SELECT * FROM deliveries WHERE channel = 'email'")
    }
    assert set(rows) == {("alert", sent), ("alert", waiting), ("notice", notice)}
    first, second = rows[("alert", sent)], rows[("alert", waiting)]
    assert (first["status"], first["sent_at"], first["message_id"]) == ("sent", "T", "<m>")
    assert (second["status"], second["attempts"], second["next_attempt_at"]) == ("pending", 2, "N")
    assert migrate(db) == []  # safe twice


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ('[alerts]\nchannels = ["pigeon"]\n', "alerts.channels", "no channel named 'pigeon'"),
        (
            '[alerts]\nchannels = ["x"]\n[channels.x]\nfactory = "nope"\n',
            "channels.x.factory",
            "expected 'package.module:function'",
        ),
        (
            '[alerts]\nchannels = ["x"]\n[channels.x]\nfactory = "json:nothing_here"\n',
            "channels.x.factory",
            "json has no function 'nothing_here'",
        ),
        (
            '[alerts]\nchannels = ["email"]\n[channels.email]\nport = 25\n',
            "channels.email.port",
            "unknown key",
        ),
        (
            '[alerts]\nchannels = ["email"]\n[channels.email]\nto = ["a@example.org"]\n',
            "channels.email.to",
            "unknown key",
        ),
        ('[alerts]\nchannels = ["email", "email"]\n', "alerts.channels", "listed twice"),
        (
            '[alerts]\nchannels = ["ops"]\n[channels.ops]\n'
            'factory = "pipelines.channels.email:make_channel"\n',
            "channels.ops.to",
            "no recipients",
        ),
    ],
)
def test_a_channel_that_cannot_be_found_names_the_key(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    config = parse_config(tomllib.loads(toml), tmp_path / "nw.toml")
    with pytest.raises(ConfigError, match=rf"{key}: .*{problem}"):
        open_channels(config, {})


def test_the_email_channel_is_found_by_name_and_reads_no_secret_at_import() -> None:
    factory = find_factory("email", None, "nw.toml")
    assert factory.__module__ == "pipelines.channels.email"
    config = parse_config(
        tomllib.loads('[alerts]\nto = ["a@example.org"]\n'), Path("nw.toml").resolve()
    )
    env = {"NEWSWATCH_SMTP_URL": "smtp://user:hunter2@mail.example.org:587?starttls=1"}
    channel = factory(ChannelSetup("email", {}, config, env))
    assert channel.describe() == "SMTP mail.example.org:587 (STARTTLS, as user)"
    assert "hunter2" not in repr(channel)


class Racing:
    """A channel whose delivery another sender claims first (two passes on one file)."""

    name = "email"

    def __init__(self, other: Store) -> None:
        self.other = other
        self.sent: list[str] = []

    def describe(self) -> str:
        return "racing"

    def send(self, message: Message, claim: Claim) -> None:
        self.other.claim(message.kind, list(message.items), self.name, (), message.message_id)
        claim()
        self.sent.append(message.message_id)


def test_items_another_sender_claimed_are_left_to_it(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    alert_id = add_alert(store, 1)
    with open_store(tmp_path / "nw.db") as other:
        channel = Racing(other)
        report = send_all(store, config, [channel])
    assert (report.sent, report.held, report.failed, channel.sent) == (0, 0, 0, [])
    assert report.messages == []
    row = store.deliveries("alert", alert_id)["email"]
    assert (row["status"], row["attempts"]) == ("sending", 1)  # the other sender's, untouched


@pytest.mark.usefixtures("plugin")
def test_alerts_send_on_the_command_line_goes_through_the_configured_channel(
    tmp_path: Path, store: Store, hook: Hook
) -> None:
    from click.testing import CliRunner

    from crawler.cli import main

    with_channels(tmp_path, "webhook")
    add_alert(store, 1)
    env = {"NEWSWATCH_WEBHOOK_URL": hook.url}
    command = ["--config", str(tmp_path / "nw.toml"), "alerts", "send"]
    first = CliRunner().invoke(main, command, env=env)
    again = CliRunner().invoke(main, command, env=env)
    assert first.exit_code == 0, first.output
    netloc = hook.url.split("/")[2]
    assert f"alerts: 1 sent via webhook {netloc}" in first.output
    assert f"alerts: 0 sent via webhook {netloc}" in again.output
    assert len(hook.received) == 1
