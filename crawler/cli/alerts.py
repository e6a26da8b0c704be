"""``newswatch alerts``: the outbox of alerts and operator notices: list, preview, send, resend.

Sending is :func:`pipelines.outbox.send_all` over the channels ``[alerts] channels``
enables; this module reads the flags and prints the report (``newswatch run`` prints its
delivery with :func:`print_send_report` too).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from pipelines.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from pipelines.channels import Channel
    from pipelines.outbox import Counts, Outgoing, SendReport


@click.group()
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
    from crawler.cli.common import open_existing_store

    with open_existing_store(state) as store:
        rows = store.alert_rows(status)
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
    """Send pending alerts and notices over the enabled channels ([alerts] channels):
    email by SMTP ($NEWSWATCH_SMTP_URL) or into the Maildir.

    An alert the server refused waits 5 min, 10, 20, ... (at most 6 h) before the next
    try; --now ignores the wait. --dry-run prints and changes nothing.

    \b
    Example:
        NEWSWATCH_SMTP_URL='smtp://user:pass@mail.example.org:587?starttls=1' \\
            newswatch alerts send
        newswatch alerts send --dry-run
        newswatch alerts send --now
    """
    from pipelines.outbox import open_channels, send_all
    from pipelines.store import open_config_store
    from pipelines.store.lock import store_pass_lock

    config = state.config
    channels = [] if dry_run else open_channels(config)
    with store_pass_lock(config), open_config_store(config) as store:
        report = send_all(store, config, channels, dry_run=dry_run, ignore_backoff=now)
    if dry_run:
        for outgoing in report.messages:
            click.echo(preview_text(outgoing))
            click.echo("-" * 72)
        click.echo(f"dry run: {len(report.messages)} message(s) not sent")
        return
    print_send_report(report, channels)
    if report.undelivered:
        sys.exit(ExitCode.DELIVERY)


@alerts.command("preview")
@click.argument("alert_ids", nargs=-1, type=int)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also save the HTML part to this file (open it in a browser).",
)
@click.option("--chat", is_flag=True, help="Print the short chat form instead of the text.")
@click.option("--all", "show_all", is_flag=True, help="Print every message, not the first.")
@click.option("--now", "now", is_flag=True, hidden=True)  # kept: every pending alert is shown
@pass_state
@fail_cleanly
def alerts_preview(
    state: State,
    alert_ids: tuple[int, ...],
    html_path: Path | None,
    chat: bool,
    show_all: bool,
    now: bool,
) -> None:
    """Show alerts exactly as they would be sent: the pending ones, or any stored alert by
    id (sent or not). Queues nothing, sends nothing, changes nothing.

    \b
    Example:
        newswatch alerts preview
        newswatch alerts preview 12 --html alert.html
        newswatch alerts preview 12 --chat
    """
    from crawler.cli.common import open_existing_store
    from pipelines.outbox import preview

    with open_existing_store(state) as store:
        if alert_ids:
            unknown = store.unknown_alert_ids(alert_ids)
            if unknown:
                ids = ", ".join(str(i) for i in unknown)
                raise UsageError(f"no alert with id {ids} (see: newswatch alerts list)")
        waiting = preview(store, state.config, alert_ids)
    if not waiting:
        click.echo("no alert is waiting to be sent")
        return
    shown = waiting if show_all else waiting[:1]
    for outgoing in shown:
        message = outgoing.message
        click.echo(message.chat or message.subject if chat else preview_text(outgoing))
        if len(shown) > 1:
            click.echo("-" * 72)
    if html_path is not None:
        html_path.write_text(shown[0].message.html or "", encoding="utf-8")
        click.echo(f"HTML saved to {html_path}", err=True)
    if len(waiting) > len(shown):
        click.echo(f"({len(waiting) - len(shown)} more message(s) after this one)", err=True)


@alerts.command("resend")
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@pass_state
@fail_cleanly
def alerts_resend(state: State, alert_ids: tuple[int, ...]) -> None:
    """Put alerts back in the outbox; the next send delivers them again. An id that names
    no alert queues nothing and exits 2.

    \b
    Example:
        newswatch alerts resend 12 13
    """
    from pipelines.store import open_config_store

    with open_config_store(state.config) as store:
        unknown = store.unknown_alert_ids(alert_ids)
        if unknown:
            ids = ", ".join(str(i) for i in unknown)
            raise UsageError(
                f"no alert with id {ids}; nothing queued again (see: newswatch alerts list)"
            )
        n = store.resend_alerts(alert_ids)
    click.echo(f"{n} alert(s) queued again")


def preview_text(outgoing: Outgoing) -> str:
    """A message as its channel would carry it: an email's headers and plain text, else
    the subject and the text."""
    from pipelines.channels.email import email_message, render_text

    message, to = outgoing.message, outgoing.message.recipients.get(outgoing.channel)
    if to:
        return render_text(email_message(message, to))
    return f"Channel: {outgoing.channel}\nSubject: {message.subject}\n\n{message.text}"


def print_send_report(report: SendReport, channels: Sequence[Channel]) -> None:
    """One line per kind of item (``alerts: 2 sent via SMTP ...``), then each error."""
    where = ", ".join(c.describe() for c in channels) or "no channel"
    why = "; ".join(dict.fromkeys(report.held_because)) or "server not reached"
    click.echo(_summary("alerts", report.of("alert"), where, report, why))
    notices = report.of("notice")
    if notices != type(notices)():
        click.echo(_summary("notices", notices, where, None, why))
    for err in dict.fromkeys(report.errors):
        click.echo(f"newswatch: alert delivery: {err}", err=True)


def _summary(
    label: str, counts: Counts, where: str, report: SendReport | None, held_because: str
) -> str:
    parts = [f"{label}: {counts.sent} sent via {where}"]
    if counts.held:
        parts.append(f"{counts.held} kept for the next pass ({held_because})")
    if counts.retrying or counts.waiting:
        retry = report.next_attempt_at if report is not None else None
        when = f" (next try {retry})" if retry else ""
        parts.append(f"{counts.retrying + counts.waiting} waiting to retry{when}")
    if counts.failed:
        parts.append(f"{counts.failed} failed")
    if counts.pending:
        parts.append(f"{counts.pending} without recipients")
    if report is not None and report.digest_waiting:
        parts.append(f"{report.digest_waiting} queued for the next digest ([alerts] digest)")
    if report is not None and report.failed_total:
        parts.append(
            f"{report.failed_total} failed in the outbox (newswatch alerts list --status failed)"
        )
    return ", ".join(parts)
