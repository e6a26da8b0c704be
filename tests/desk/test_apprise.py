"""The Apprise channel against a webhook server on 127.0.0.1 (``json://`` URLs): URLs from
the environment or a private file, never from the config; down then up; refused then
retried; per-topic channels; SIGKILL in mid-send then a rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_newswatch
from items import add_alert
from webhook import Webhook

from pipelines.config import Config, parse_config
from pipelines.errors import ConfigError
from pipelines.outbox import INTERRUPTED, open_channels, send_all
from pipelines.store import Store, open_store

TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
maildir = "mail"
max_per_pass = 0
channels = [{channels}]
"""


def config(tmp_path: Path, channels: str = '"apprise"', extra: str = "") -> Config:
    text = TOML.replace("{channels}", channels) + extra
    path = tmp_path / "nw.toml"
    path.write_text(text, "utf-8")
    return parse_config(tomllib.loads(text), path)


@pytest.fixture
def hook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "nw.db") as opened:
        yield opened


def env(url: str) -> dict[str, str]:
    return {"NEWSWATCH_APPRISE_URLS": url}


def test_urls_come_from_the_environment_or_a_private_file_never_the_config(
    tmp_path: Path, hook: Webhook
) -> None:
    cfg = config(tmp_path, extra=f'[channels.apprise]\nurls = ["{hook.url}"]\n')
    with pytest.raises(ConfigError, match=r"channels\.apprise\.urls: Apprise URLs carry secrets"):
        open_channels(cfg, env(hook.url))
    with pytest.raises(ConfigError, match=r"\$NEWSWATCH_APPRISE_URLS is not set"):
        open_channels(config(tmp_path), {})

    secrets = tmp_path / "apprise.urls"
    secrets.write_text(f"# the team's webhook\n{hook.url}\n", "utf-8")
    secrets.chmod(0o644)
    by_file = config(tmp_path, extra='[channels.apprise]\nurls_file = "apprise.urls"\n')
    with pytest.raises(ConfigError, match=r"can be read by others \(mode 644\): chmod 600"):
        open_channels(by_file, {})
    secrets.chmod(0o600)
    (channel,) = open_channels(by_file, {})
    assert "JSON" in channel.describe() and hook.url not in channel.describe()

    named = config(tmp_path, extra='[channels.apprise]\nurls_env = "TEAM_HOOK"\n')
    assert len(open_channels(named, {"TEAM_HOOK": f"{hook.url}, {hook.url}x"})) == 1
    with pytest.raises(ConfigError, match=r"URL 1 of \$TEAM_HOOK \(nope://\.\.\.\)"):
        open_channels(named, {"TEAM_HOOK": "nope://secret-token"})


def test_down_then_up_every_alert_arrives_once(tmp_path: Path, store: Store) -> None:
    cfg = config(tmp_path)
    ids = [add_alert(store, n) for n in (1, 2, 3)]
    server = Webhook()
    url, port = server.url, server.port
    server.stop()  # down: nothing listens on the port

    down = send_all(store, cfg, open_channels(cfg, env(url)))
    assert (down.sent, down.held) == (0, 3)
    assert all(store.deliveries("alert", i)["apprise"]["attempts"] == 0 for i in ids)

    up = Webhook(port)
    try:
        first = send_all(store, cfg, open_channels(cfg, env(url)))
        again = send_all(store, cfg, open_channels(cfg, env(url)))
    finally:
        up.stop()
    assert (first.sent, again.sent) == (3, 0)
    assert len(up.received) == 3
    assert sorted(m.splitlines()[0] for m in up.messages()) == [
        "Article 1",
        "Article 2",
        "Article 3",
    ]
    assert all("Why: Defence: drones" in m for m in up.messages())  # the short chat form


def test_refused_is_retried_after_its_backoff_and_arrives_once(
    tmp_path: Path, store: Store, hook: Webhook
) -> None:
    cfg = config(tmp_path)
    alert = add_alert(store, 1)
    hook.status = 503
    refused = send_all(store, cfg, open_channels(cfg, env(hook.url)))
    assert (refused.sent, refused.retrying) == (0, 1)
    hook.status = 200
    waiting = send_all(store, cfg, open_channels(cfg, env(hook.url)))
    later = datetime.now(UTC) + timedelta(minutes=6)
    retried = send_all(store, cfg, open_channels(cfg, env(hook.url)), now=later)

    assert (waiting.sent, waiting.waiting, retried.sent) == (0, 1, 1)
    assert len(hook.received) == 2  # the refused POST, then the one accepted
    assert store.deliveries("alert", alert)["apprise"]["status"] == "sent"


def test_each_topic_goes_to_the_channels_it_names(
    tmp_path: Path, store: Store, hook: Webhook
) -> None:
    topics = (
        '[[topics]]\nname = "defence"\nchannels = ["apprise"]\n'
        '[[topics]]\nname = "cyber"\nchannels = ["email"]\n'
        '[[topics]]\nname = "trade"\n'
    )
    cfg = config(tmp_path, '"email", "apprise"', topics)
    add_alert(store, 1, topic="defence")
    add_alert(store, 2, topic="cyber")
    add_alert(store, 3, topic="trade")
    report = send_all(store, cfg, open_channels(cfg, env(hook.url)))

    assert (report.channels["apprise"].sent, report.channels["email"].sent) == (2, 2)
    assert sorted(m.splitlines()[0] for m in hook.messages()) == ["Article 1", "Article 3"]
    assert store.deliveries("alert", 2).keys() == {"email"}
    assert store.deliveries("alert", 1).keys() == {"apprise"}
    with pytest.raises(ConfigError, match=r"topics\[0\]\.channels: 'slack' is not in"):
        config(tmp_path, extra='[[topics]]\nname = "x"\nchannels = ["slack"]\n')


@pytest.mark.crawl  # a newswatch child process, killed
def test_sigkill_in_mid_send_then_rerun_sends_none_twice_and_loses_none(
    tmp_path: Path, store: Store, hook: Webhook
) -> None:
    config(tmp_path)
    ids = [add_alert(store, n) for n in (1, 2, 3, 4)]
    hook.hold_at = 2  # the second POST is received, then the sender is killed
    environ = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    environ.update(env(hook.url))
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(tmp_path / "nw.toml"), "alerts", "send"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert hook.reached.wait(timeout=120), "the send never reached the second alert"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    hook.release.set()

    rerun = run_newswatch("alerts", "send", config=tmp_path / "nw.toml", env=env(hook.url))
    assert rerun.code == 0, rerun.err
    assert f"alert(s) {ids[1]}: interrupted while sending" in rerun.err
    firsts = [m.splitlines()[0] for m in hook.messages()]
    assert sorted(firsts) == ["Article 1", "Article 2", "Article 3", "Article 4"]  # once each
    rows = {i: store.deliveries("alert", i)["apprise"] for i in ids}
    assert rows[ids[1]]["status"] == "failed" and rows[ids[1]]["last_error"] == INTERRUPTED
    assert all(rows[i]["status"] == "sent" for i in ids if i != ids[1])
