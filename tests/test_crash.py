"""A pass killed with SIGKILL, then run again: no alert lost, none sent twice.

Killed while sending: the SMTP server on 127.0.0.1 holds one message between receiving its
data and answering it (the window SMTP leaves every client) until the pass is dead. Killed
while crawling: the sites on 127.0.0.1 answer slowly and the pass dies half-way through."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import run_newswatch, stored_articles

from pipelines.outbox import INTERRUPTED
from samples.demo import DEMO_SITES
from samples.localserver import SITES_DIR, SiteServers

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytestmark = pytest.mark.crawl  # newswatch passes killed and run again

pytest_plugins = ["smtpserver"]

MANIFEST: dict[str, Any] = json.loads((SITES_DIR / "MANIFEST.json").read_text("utf-8"))


def relevant_urls(servers: SiteServers) -> list[str]:
    return [
        servers[site] + a["path"]
        for site in DEMO_SITES
        for a in MANIFEST[site]["articles"]
        if a["kind"] not in ("missing", "not-article") and a["relevant"] and not a["copy_of_seed"]
    ]


def copies_received(smtp: SmtpServer, url: str) -> int:
    count = 0
    for mail in smtp.received:
        body = mail.message().get_body(("plain",))
        assert body is not None
        count += url in [line.strip() for line in body.get_content().splitlines()]
    return count


def alert_rows(config: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT alerts.*, articles.url FROM alerts JOIN articles"
            " ON articles.id = alerts.article_id ORDER BY alerts.id"
        ).fetchall()
    finally:
        conn.close()


def kill_pass_while_the_server_holds_message(
    config: Path, smtp: SmtpServer, number: int, *, accept: bool
) -> None:
    smtp.hold_message(number, accept=accept)
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    env["NEWSWATCH_SMTP_URL"] = smtp.url
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert smtp.handler.reached.wait(timeout=180), "the pass never reached message 2"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    smtp.handler.release.set()


@pytest.mark.parametrize("server_kept_it", [True, False], ids=["kept", "discarded"])
def test_sigkill_while_sending_then_rerun_sends_no_alert_twice_and_loses_none(
    config_path: Path, servers: SiteServers, smtp_server: SmtpServer, server_kept_it: bool
) -> None:
    urls = relevant_urls(servers)
    assert len(urls) >= 3
    kill_pass_while_the_server_holds_message(config_path, smtp_server, 2, accept=server_kept_it)
    (in_doubt,) = [r for r in alert_rows(config_path) if r["status"] == "sending"]

    rerun = run_newswatch("run", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url})
    assert rerun.code == 0, rerun.err
    assert f"alert(s) {in_doubt['id']}: interrupted while sending" in rerun.err
    assert "stale lock" in rerun.err and "did not finish" in rerun.err
    rows = {r["url"]: r for r in alert_rows(config_path)}
    assert (rows[in_doubt["url"]]["status"], rows[in_doubt["url"]]["last_error"]) == (
        "failed",
        INTERRUPTED,
    )
    assert all(r["status"] == "sent" for u, r in rows.items() if u != in_doubt["url"])
    for url in urls:
        expected = 0 if url == in_doubt["url"] and not server_kept_it else 1
        assert copies_received(smtp_server, url) == expected, url

    # A person who checks puts the one in doubt back; it goes out once more, and only it.
    resend = run_newswatch("alerts", "resend", str(in_doubt["id"]), config=config_path)
    assert resend.code == 0 and "1 alert(s) queued again" in resend.out
    again = run_newswatch(
        "alerts", "send", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url}
    )
    assert again.code == 0, again.err
    assert copies_received(smtp_server, in_doubt["url"]) == (2 if server_kept_it else 1)
    assert sum(copies_received(smtp_server, u) for u in urls) == len(urls) + server_kept_it


def test_sigkill_during_the_crawl_then_rerun_alerts_each_article_once(
    config_path: Path, servers: SiteServers, smtp_server: SmtpServer
) -> None:
    for site in DEMO_SITES:
        servers.set_delay(site, 0.2)  # slow enough to be caught half-way
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    env["NEWSWATCH_SMTP_URL"] = smtp_server.url
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config_path), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while stored_articles(config_path) < 3 and child.poll() is None:
            assert time.monotonic() < deadline, "no article stored in time"
            time.sleep(0.05)  # polling a condition, not waiting for luck
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the pass ended before it could be killed"
    assert smtp_server.received == []  # killed while crawling: nothing sent yet
    for site in DEMO_SITES:
        servers.set_delay(site, 0)

    rerun = run_newswatch("run", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url})
    assert rerun.code == 0, rerun.err
    urls = relevant_urls(servers)
    assert [copies_received(smtp_server, u) for u in urls] == [1] * len(urls)
    assert len(smtp_server.received) == len(urls)
    conn = sqlite3.connect(config_path.parent / "newswatch.db")
    statuses = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")]
    conn.close()
    assert statuses == ["interrupted", "ok"]
