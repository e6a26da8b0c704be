"""The ``newswatch`` command line.

Exit codes (also in ``newswatch --help`` and docs/operations.md):

0  the command did its work
1  a source failed as a whole (``run``); a check failed (``doctor``, ``sources check``)
2  a configuration or usage error (the message names the file and the key)
3  alerts could not be delivered (they stay queued; the next pass retries)
4  the database could not be opened or written
5  another pass is running on the same database (the message names its pid)
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from pipelines import __version__
from pipelines.config import Config
from pipelines.errors import ConfigError
from pipelines.store import open_db
from pipelines.store.lock import pass_lock
from pipelines.transport import MaildirTransport, SmtpTransport, transport_from_env

if TYPE_CHECKING:
    from pipelines.alerts import SendReport


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

    \b
    Exit codes:
    0  the command did its work
    1  a source failed as a whole (run); a check failed (doctor, sources check)
    2  a configuration or usage error
    3  alerts could not be delivered (they stay queued)
    4  the database could not be opened or written
    5  another pass is running on the same database
    """
    from crawler.cli.progress import setup_logging

    setup_logging(verbose)
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
@click.option(
    "--progress/--summary",
    default=None,
    help="A line per source as it finishes and the table (default on a terminal), or one"
    " summary line (default under cron).",
)
@pass_state
@fail_cleanly
def run(
    state: State, only: tuple[str, ...], baseline: bool, no_send: bool, progress: bool | None
) -> None:
    """One pass: crawl every enabled source, store new articles, send alerts.

    Exits 0 when the pass completed (404s and non-articles are counted, not fatal), 1 when
    a source failed as a whole, 2 on a configuration error, 3 when alerts could not be sent,
    4 on a database error, 5 when another pass is running.

    \b
    Example:
        newswatch --config newswatch.toml run
        newswatch run --source bladi_net --baseline
    """
    from crawler.cli.progress import print_progress, print_unattended
    from crawler.cli.report import print_pass
    from crawler.runner import EXIT_DELIVERY, run_pass

    config = state.config
    sources = [config.source(n) for n in only] if only else None
    transport = None if no_send else _transport(config)
    live = sys.stdout.isatty() if progress is None else progress
    with pass_lock(config.store_path):
        report = run_pass(
            config,
            sources=sources,
            baseline=baseline,
            verbose=state.verbose,
            on_source=print_progress if live else None,
        )
        if live:
            print_pass(report)
        else:
            print_unattended(report)
        code = report.exit_code
        if transport is not None:
            delivered = _send(config, dry_run=False, transport=transport, run_id=report.run_id)
            if not delivered and not code:
                code = EXIT_DELIVERY
    sys.exit(code)


@main.group()
def alerts() -> None:
    """The alert outbox: list, preview, send, resend."""


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
        " alerts.sent_at, alerts.next_attempt_at, alerts.last_error,"
        " articles.id AS article_id, articles.source,"
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
            if r["last_error"] and r["status"] != "sent":
                retry = f", next try {r['next_attempt_at']}" if r["next_attempt_at"] else ""
                click.echo(f"       attempts {r['attempts']}{retry}; last error: {r['last_error']}")
    if not rows and not as_json:
        click.echo("no alerts")


@alerts.command("send")
@click.option("--dry-run", is_flag=True, help="Print the messages instead of sending them.")
@click.option("--now", "now", is_flag=True, help="Also retry alerts still waiting out a backoff.")
@pass_state
@fail_cleanly
def alerts_send(state: State, dry_run: bool, now: bool) -> None:
    """Send pending alerts by SMTP ($NEWSWATCH_SMTP_URL) or into the Maildir.

    An alert the server refused waits 5 min, 10, 20, ... (at most 6 h) before the next
    try; --now ignores the wait. --dry-run prints and changes nothing.

    \b
    Example:
        NEWSWATCH_SMTP_URL='smtp://user:pass@mail.example.org:587?starttls=1' \\
            newswatch alerts send
        newswatch alerts send --dry-run
        newswatch alerts send --now
    """
    with pass_lock(state.config.store_path):
        delivered = _send(state.config, dry_run=dry_run, ignore_backoff=now)
    if not delivered:
        sys.exit(3)


@alerts.command("preview")
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the text.")
@click.option("--now", "now", is_flag=True, help="Include alerts still waiting out a backoff.")
@pass_state
@fail_cleanly
def alerts_preview(state: State, as_html: bool, now: bool) -> None:
    """Print the next alert email exactly as it would be sent; sends and changes nothing.

    \b
    Example:
        newswatch alerts preview
        newswatch alerts preview --html > next.html
    """
    from pipelines.alerts import send_pending
    from pipelines.mail import render_text

    db = open_db(state.config.store_path)
    try:
        report = send_pending(db, None, state.config, ignore_backoff=now)
    finally:
        db.close()
    if not report.messages:
        click.echo("no alert is waiting to be sent")
        return
    first = report.messages[0]
    if as_html:
        part = first.get_body(preferencelist=("html",))
        click.echo(str(part.get_content()) if part is not None else "")
    else:
        click.echo(render_text(first))
    if len(report.messages) > 1:
        click.echo(f"({len(report.messages) - 1} more message(s) after this one)", err=True)


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
    config: Config,
    *,
    dry_run: bool,
    transport: SmtpTransport | MaildirTransport | None = None,
    ignore_backoff: bool = False,
    run_id: int | None = None,
) -> bool:
    """Send (or print) pending alerts; False when some could not be delivered.

    With ``run_id``, the pass's row in ``runs`` gets the number of alerts sent.
    """
    from pipelines.alerts import send_pending
    from pipelines.mail import render_text

    if not dry_run and transport is None:
        transport = _transport(config)
    db = open_db(config.store_path)
    try:
        report = send_pending(db, transport, config, ignore_backoff=ignore_backoff)
        if run_id is not None and transport is not None:
            db.execute("UPDATE runs SET alerts_sent = ? WHERE id = ?", [report.sent, run_id])
        from pipelines.health import send_notices  # operator notices share the step

        # A server the alerts could not reach is not tried again: the notices wait too.
        if transport is None or not report.held:
            notices = send_notices(db, transport, config, ignore_backoff=ignore_backoff)
            report.messages += notices.messages
            report.failed += notices.failed
            report.retrying += notices.retrying
            report.held += notices.held
            report.errors += notices.errors
    finally:
        db.close()
    if dry_run:
        for msg in report.messages:
            click.echo(render_text(msg))
            click.echo("-" * 72)
        click.echo(f"dry run: {len(report.messages)} message(s) not sent")
        return True
    assert transport is not None
    click.echo(_send_summary(report, transport.describe()))
    for err in dict.fromkeys(report.errors):
        click.echo(f"newswatch: alert delivery: {err}", err=True)
    return not report.undelivered


def _send_summary(report: SendReport, where: str) -> str:
    parts = [f"alerts: {report.sent} sent via {where}"]
    if report.held:
        parts.append(f"{report.held} kept for the next pass (server not reached)")
    if report.retrying or report.waiting:
        when = f" (next try {report.next_attempt_at})" if report.next_attempt_at else ""
        parts.append(f"{report.retrying + report.waiting} waiting to retry{when}")
    if report.failed:
        parts.append(f"{report.failed} failed")
    if report.pending:
        parts.append(f"{report.pending} without recipients")
    if report.failed_total:
        parts.append(
            f"{report.failed_total} failed in the outbox (newswatch alerts list --status failed)"
        )
    return ", ".join(parts)


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
    from samples.demo import run_demo

    sys.exit(run_demo(output))


def _register_groups() -> None:
    from crawler.cli.ops import doctor, schedule
    from crawler.cli.sources import sources
    from crawler.cli.topics import topics

    main.add_command(sources)
    main.add_command(topics)
    main.add_command(schedule)
    main.add_command(doctor)


_register_groups()
