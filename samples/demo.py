"""``newswatch demo``: the whole pipeline against bundled sample sites, offline.

Three sample sites (a French and a Dutch diaspora news site in SPIP's shape, an English
WordPress site) are served on 127.0.0.1; a config pointing at them is written next to the
database; one real pass runs (Scrapy crawl, extraction, dedup against the seed corpus, topic
matching, outbox) and the alerts land in a Maildir.
"""

from __future__ import annotations

import mailbox
import shutil
import sys
from email.header import decode_header, make_header
from pathlib import Path

import click
import sqlite_utils

from samples.localserver import SITES_DIR, serve_sites

DEMO_SITES = ("bladi", "bladna", "trends")

DEMO_CONFIG = """\
# Written by `newswatch demo`: the bundled sample sites, served on 127.0.0.1.
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
mode = "each"
max_age_days = 0
maildir = "maildir"

[crawl]
download_delay = 0
autothrottle_start_delay = 0

[[sources]]
name = "bladi"
title = "Bladi (sample)"
lang = "fr"
feeds = ["{bladi}/spip.php?page=backend"]
sitemaps = ["{bladi}/sitemap.xml"]
start_urls = ["{bladi}/maroc.html"]
article_pattern = ',\\d+\\.html$'
follow_depth = 3

[[sources]]
name = "bladna"
title = "Bladna (sample)"
lang = "nl"
feeds = ["{bladna}/rss"]
sitemaps = ["{bladna}/sitemap-news.xml"]
start_urls = ["{bladna}/marokko.html"]
article_pattern = ',\\d+\\.html$'
follow_depth = 3

[[sources]]
name = "trends"
title = "Trends (sample)"
lang = "en"
feeds = ["{trends}/feed/"]
sitemaps = ["{trends}/wp-sitemap.xml"]
start_urls = ["{trends}/category/africa/"]
article_pattern = '^https?://[^/]+/[a-z0-9]+(-[a-z0-9]+){{2,}}/$'
follow_depth = 3
"""


def run_demo(output: Path) -> int:
    from crawler.cli.report import print_pass
    from crawler.runner import run_pass
    from pipelines.alerts import send_pending
    from pipelines.config import load_config
    from pipelines.mail import render_text
    from pipelines.store import open_db
    from pipelines.store.lock import pass_lock
    from pipelines.transport import MaildirTransport

    output = output.resolve()
    _reset(output)
    config_path = output / "newswatch.toml"
    with pass_lock(output / "newswatch.db"), serve_sites(SITES_DIR, DEMO_SITES) as servers:
        config_path.write_text(
            DEMO_CONFIG.format(**{n: servers[n] for n in DEMO_SITES}), encoding="utf-8"
        )
        config = load_config(config_path)
        for name in DEMO_SITES:
            click.echo(f"serving sample site {name:<7} at {servers[name]}")
        report = run_pass(config)
        print_pass(report)
        assert config.alerts.maildir is not None
        db = open_db(config.store_path)
        try:
            sent = send_pending(db, MaildirTransport(config.alerts.maildir), config)
            _describe(db, config.alerts.maildir, sent.sent)
        finally:
            db.close()
    if sent.messages:
        click.echo("\nThe first alert email, as text:\n")
        click.echo(render_text(sent.messages[0]))
    click.echo(
        f"config: {config_path}\ndatabase: {config.store_path}\n"
        f"try: {_program()} --config {config_path} alerts list"
    )
    return report.exit_code


def _program() -> str:
    """How the user called us, so the suggested command works when pasted."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 if Path(argv0).name == "newswatch" else "newswatch"


def _reset(output: Path) -> None:
    """Each demo starts from an empty dataset, so it always shows a first pass."""
    output.mkdir(parents=True, exist_ok=True)
    for name in ("newswatch.db", "newswatch.db-wal", "newswatch.db-shm"):
        (output / name).unlink(missing_ok=True)
    shutil.rmtree(output / "maildir", ignore_errors=True)


def _describe(db: sqlite_utils.Database, maildir: Path, sent: int) -> None:
    click.echo("\nrelevant new articles:")
    for r in db.query(
        "SELECT source, lang, title FROM articles WHERE relevant = 1 AND"
        " duplicate_of IS NULL AND source != 'seed' ORDER BY id"
    ):
        click.echo(f"  [{r['source']}/{r['lang']}] {r['title']}")
    click.echo("copies of stored articles (no alert):")
    for r in db.query(
        "SELECT a.source, a.title, d.url AS original, a.overlap FROM articles a"
        " JOIN articles d ON d.id = a.duplicate_of ORDER BY a.id"
    ):
        click.echo(f"  [{r['source']}] {r['title']}  ->  {r['original']} (overlap {r['overlap']})")
    click.echo(f"\n{sent} alert email(s) in {maildir}/new:")
    for key, msg in sorted(mailbox.Maildir(maildir, create=True).items()):
        subject = " ".join(str(make_header(decode_header(msg["Subject"] or ""))).split())
        click.echo(f"  {key}: {subject}")
