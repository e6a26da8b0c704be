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

from pipelines.store import Store
from samples.localserver import SITES_DIR, serve_sites
from samples.manifest import load_manifest, write_config

DEMO_SITES = ("bladi", "bladna", "trends")


def run_demo(output: Path) -> int:
    from crawler.cli.alerts import preview_text
    from crawler.cli.report import print_pass
    from crawler.passes import run_pass
    from pipelines.config import load_config
    from pipelines.outbox import open_channels
    from pipelines.store import open_store

    output = output.resolve()
    _reset(output)
    config_path = output / "newswatch.toml"
    with serve_sites(SITES_DIR, DEMO_SITES) as servers:
        write_config(config_path, load_manifest(SITES_DIR), servers)
        config = load_config(config_path)
        for name in DEMO_SITES:
            click.echo(f"serving sample site {name:<7} at {servers[name]}")
        # The Maildir only, whatever NEWSWATCH_SMTP_URL the shell may hold: the demo sends
        # no real mail.
        report = run_pass(config, channels=open_channels(config, environ={}))
        print_pass(report)
        assert config.alerts.maildir is not None and report.delivery is not None
        with open_store(config.store_path) as store:
            _describe(store, config.alerts.maildir, report.delivery.of("alert").sent)
    alerts = [m for m in report.delivery.messages if m.message.kind == "alert"]
    if alerts:
        click.echo("\nThe first alert email, as text:\n")
        click.echo(preview_text(alerts[0]))
    click.echo(
        f"config: {config_path}\ndatabase: {config.store_path}\n"
        f"try: {_program()} --config {config_path} alerts list"
    )
    return int(report.exit_code)


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


def _describe(store: Store, maildir: Path, sent: int) -> None:
    click.echo("\nrelevant new articles:")
    for r in store.relevant_originals():
        click.echo(f"  [{r['source']}/{r['lang']}] {r['title']}")
    click.echo("copies of stored articles (no alert):")
    for r in store.copies_of_stored():
        click.echo(f"  [{r['source']}] {r['title']}  ->  {r['original']} (overlap {r['overlap']})")
    click.echo(f"\n{sent} alert email(s) in {maildir}/new:")
    for key, msg in sorted(mailbox.Maildir(maildir, create=True).items()):
        subject = " ".join(str(make_header(decode_header(msg["Subject"] or ""))).split())
        click.echo(f"  {key}: {subject}")
