"""The ``newswatch`` command line.

Exit codes: 0 the command did its work; 1 a source failed as a whole (``run``); 2 a
configuration or usage error; 3 alerts could not be delivered (they stay queued and the
next pass retries); 4 the database could not be opened or written; 5 another pass is
running on the same database.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import click

from crawler.clicommon import State, fail_cleanly, pass_state
from pipelines import __version__
from pipelines.config import Config
from pipelines.errors import ConfigError
from pipelines.lock import pass_lock
from pipelines.store import open_db
from pipelines.transport import MaildirTransport, SmtpTransport, transport_from_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="NEWSWATCH_CONFIG",
    help="Config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log at INFO level.")
@click.version_option(__version__, prog_name="newswatch")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """newswatch: watch news sites for new articles on a topic, and send alerts.

    \b
    Example:
        newswatch --config newswatch.toml init
        newswatch --config newswatch.toml run
    """
    ctx.obj = State(config_path, verbose)


@main.command()
@pass_state
@fail_cleanly
def init(state: State) -> None:
    """Create or migrate the database and import the seed corpus (safe to run twice).

    \b
    Example:
        newswatch --config newswatch.toml init
    """
    from pipelines.seeds import import_seeds, seed_files

    config = state.config
    db = open_db(config.store_path)
    added = import_seeds(db, config.topics)
    db.close()
    click.echo(
        f"database {config.store_path}: ready; seed corpus: {added} added, "
        f"{len(seed_files())} in all"
    )


@main.command()
@click.option(
    "--source", "only", multiple=True, metavar="NAME", help="Crawl only this source (repeatable)."
)
@click.option(
    "--baseline", is_flag=True, help="Store what the sources have now and alert on none of it."
)
@click.option("--no-send", is_flag=True, help="Queue alerts but do not send them.")
@pass_state
@fail_cleanly
def run(state: State, only: tuple[str, ...], baseline: bool, no_send: bool) -> None:
    """One pass: crawl every enabled source, store new articles, send alerts.

    Exits 0 when the pass completed (404s and non-articles are counted, not fatal), 1 when
    a source failed as a whole, 2 on a configuration error, 3 when alerts could not be sent.

    \b
    Example:
        newswatch --config newswatch.toml run
        newswatch run --source bladi_net --baseline
    """
    from crawler.report import print_pass
    from crawler.runner import EXIT_DELIVERY, run_pass

    config = state.config
    sources = [config.source(n) for n in only] if only else None
    transport = None if no_send else _transport(config)
    with pass_lock(config.store_path):
        report = run_pass(config, sources=sources, baseline=baseline, verbose=state.verbose)
        print_pass(report)
        code = report.exit_code
        if transport and not _send(config, dry_run=False, transport=transport) and not code:
            code = EXIT_DELIVERY
    sys.exit(code)


@main.group()
def alerts() -> None:
    """The alert outbox: list, send, resend."""


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@pass_state
@fail_cleanly
def alerts_list(state: State, as_json: bool, status: str | None) -> None:
    """List alerts with their article and delivery state.

    \b
    Example:
        newswatch alerts list --status pending
        newswatch alerts list --json | jq .title
    """
    db = open_db(state.config.store_path)
    sql = (
        "SELECT alerts.id, alerts.topic, alerts.status, alerts.attempts, alerts.created_at,"
        " alerts.sent_at, alerts.last_error, articles.id AS article_id, articles.source,"
        " articles.lang, articles.published, articles.title, articles.url"
        " FROM alerts JOIN articles ON articles.id = alerts.article_id"
        + (" WHERE alerts.status = ?" if status else "")
        + " ORDER BY alerts.id"
    )
    rows = [dict(r) for r in db.query(sql, [status] if status else [])]
    db.close()
    for r in rows:
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False))
        else:
            click.echo(
                f"{r['id']:>5}  {r['status']:<8} {r['source']:<14} {r['lang'] or '--':<3}"
                f" {(r['published'] or '')[:10]:<10}  {r['title']}"
            )
    if not rows and not as_json:
        click.echo("no alerts")


@alerts.command("send")
@click.option("--dry-run", is_flag=True, help="Print the messages instead of sending them.")
@pass_state
@fail_cleanly
def alerts_send(state: State, dry_run: bool) -> None:
    """Send pending alerts by SMTP ($NEWSWATCH_SMTP_URL) or into the Maildir.

    \b
    Example:
        NEWSWATCH_SMTP_URL='smtp://user:pass@mail.example.org:587?starttls=1' \\
            newswatch alerts send
        newswatch alerts send --dry-run
    """
    with pass_lock(state.config.store_path):
        delivered = _send(state.config, dry_run=dry_run)
    if not delivered:
        sys.exit(3)


@alerts.command("resend")
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@pass_state
@fail_cleanly
def alerts_resend(state: State, alert_ids: tuple[int, ...]) -> None:
    """Put alerts back in the outbox; the next send delivers them again.

    \b
    Example:
        newswatch alerts resend 12 13
    """
    from pipelines.alerts import resend

    db = open_db(state.config.store_path)
    n = resend(db, alert_ids)
    db.close()
    click.echo(f"{n} alert(s) queued again")


def _transport(config: Config) -> SmtpTransport | MaildirTransport:
    """Where alerts go; checked before a pass starts, so a bad setting costs no crawl."""
    if not config.alerts.to and not all(t.recipients for t in config.topics):
        raise ConfigError(str(config.path), "alerts.to", "no recipients: alerts could not be sent")
    return transport_from_env(os.environ, config.alerts.maildir, config_path=str(config.path))


def _send(
    config: Config, *, dry_run: bool, transport: SmtpTransport | MaildirTransport | None = None
) -> bool:
    """Send (or print) pending alerts; False when some could not be delivered."""
    from pipelines.alerts import send_pending
    from pipelines.mail import render_text

    if not dry_run and transport is None:
        transport = _transport(config)
    db = open_db(config.store_path)
    try:
        report = send_pending(db, transport, config)
    finally:
        db.close()
    if dry_run:
        for msg in report.messages:
            click.echo(render_text(msg))
            click.echo("-" * 72)
        click.echo(f"dry run: {len(report.messages)} message(s) not sent")
        return True
    assert transport is not None
    click.echo(
        f"alerts: {report.sent} sent via {transport.describe()}, {report.failed} failed"
        + (f", {report.pending} without recipients" if report.pending else "")
    )
    for err in dict.fromkeys(report.errors):
        click.echo(f"newswatch: alert delivery: {err}", err=True)
    return not report.failed


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.option("--relevant", is_flag=True, help="Only articles that matched a topic.")
@click.option("--with-seeds", is_flag=True, help="Include the seed corpus.")
@pass_state
@fail_cleanly
def export(state: State, fmt: str, output: Path | None, relevant: bool, with_seeds: bool) -> None:
    """Export stored articles as JSON lines or CSV.

    \b
    Example:
        newswatch export --format csv -o articles.csv
        newswatch export --relevant | jq -r .title
    """
    where = ["1=1"]
    if relevant:
        where.append("relevant = 1")
    if not with_seeds:
        where.append("source != 'seed'")
    db = open_db(state.config.store_path)
    cols = (
        "id, url, source, lang, title, published, date_source, author, fetched_at,"
        " duplicate_of, overlap, relevant, topics, content_hash, text"
    )
    rows = list(db.query(f"SELECT {cols} FROM articles WHERE {' AND '.join(where)} ORDER BY id"))
    db.close()
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            for r in rows:
                r["topics"] = json.loads(r["topics"] or "[]")
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=[c.strip() for c in cols.split(",")])
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if output:
            out.close()
            click.echo(f"{len(rows)} article(s) written to {output}", err=True)


@main.command()
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the demo database, config and Maildir.",
)
def demo(output: Path) -> None:
    """Serve bundled sample sites on 127.0.0.1 and run a whole pass against them, offline.

    \b
    Example:
        newswatch demo
        newswatch demo --output /tmp/nw-demo
    """
    from crawler.demo import run_demo

    sys.exit(run_demo(output))


def _register_groups() -> None:
    from crawler.cli_sources import sources
    from crawler.cli_topics import topics

    main.add_command(sources)
    main.add_command(topics)


_register_groups()
