"""Flood control on real passes: ``run --baseline`` after adding a source and a topic, and
``max_age_days``. Sites served on 127.0.0.1, a real SQLite file, a real Maildir."""

from __future__ import annotations

import mailbox
import sqlite3
from pathlib import Path

import pytest
from conftest import run_newswatch
from test_pipeline_e2e import NEW_PATH, add_article_to_bladi

from samples.localserver import SiteServers

pytestmark = pytest.mark.crawl  # every test runs newswatch passes

TOPICS = """
[[topics]]
name = "morocco-israel-defence"

[[topics]]
name = "second-look"
title = "Second look"
recipients = ["second@example.org"]
"""


def count(config: Path, sql: str) -> int:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def mails(config: Path) -> list[mailbox.MaildirMessage]:
    return list(mailbox.Maildir(config.parent / "maildir", create=True).values())


def plain_text(message: mailbox.MaildirMessage) -> str:
    text = []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
            text.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "".join(text)


def drop_source(text: str, name: str) -> str:
    blocks = text.split("[[sources]]")
    kept = [b for b in blocks[1:] if f'name = "{name}"' not in b]
    return "[[sources]]".join([blocks[0], *kept])


def test_baseline_after_adding_a_source_and_a_topic_alerts_only_on_what_comes_next(
    config_path: Path, site_root: Path, servers: SiteServers
) -> None:
    full = config_path.read_text(encoding="utf-8")
    config_path.write_text(drop_source(full, "bladna"), encoding="utf-8")
    assert run_newswatch("run", config=config_path).code == 0
    alerts, sent = count(config_path, "SELECT count(*) FROM alerts"), len(mails(config_path))
    assert alerts == sent > 0

    # A new source and a new topic: the baseline stores bladna and alerts on none of it.
    config_path.write_text(full + TOPICS, encoding="utf-8")
    baseline = run_newswatch("run", "--baseline", config=config_path)
    assert baseline.code == 0, baseline.err
    assert count(config_path, "SELECT count(*) FROM articles WHERE source = 'bladna'") > 0
    assert count(config_path, "SELECT count(*) FROM alerts") == alerts
    assert len(mails(config_path)) == sent

    # What is published afterwards is alerted, for both topics, each to its recipients.
    add_article_to_bladi(site_root)
    after = run_newswatch("run", config=config_path)
    assert after.code == 0, after.err
    new = count(
        config_path,
        "SELECT count(*) FROM alerts JOIN articles ON articles.id = article_id"
        f" WHERE articles.url = '{servers['bladi']}{NEW_PATH}' AND alerts.status = 'sent'",
    )
    assert new == 2
    assert count(config_path, "SELECT count(*) FROM alerts") == alerts + 2
    everything = mails(config_path)
    assert len(everything) == sent + 2
    # For the first topic the article joins a story already alerted: it arrives as that
    # story's update, which names the story, not the new article, in its subject.
    link = f"{servers['bladi']}{NEW_PATH}"
    recipients = sorted(str(m["To"]) for m in everything if link in plain_text(m))
    assert recipients == ["analyst@example.org", "second@example.org"]


def test_articles_older_than_max_age_days_are_stored_without_alerts(
    config_path: Path, servers: SiteServers
) -> None:
    text = config_path.read_text(encoding="utf-8").replace("max_age_days = 0", "max_age_days = 1")
    config_path.write_text(text, encoding="utf-8")
    assert run_newswatch("run", config=config_path).code == 0
    relevant = count(
        config_path,
        "SELECT count(*) FROM articles WHERE relevant = 1 AND duplicate_of IS NULL"
        " AND source != 'seed'",
    )
    assert relevant > 0
    # The sample articles were published in October and November 2026; only those of the
    # last day (if any, depending on today's date) may raise an alert.
    recent = count(
        config_path,
        "SELECT count(*) FROM articles WHERE relevant = 1 AND duplicate_of IS NULL"
        " AND source != 'seed' AND date(substr(published, 1, 10)) >= date('now', '-1 day')",
    )
    assert count(config_path, "SELECT count(*) FROM alerts") == recent < relevant
