"""``newswatch demo``: the whole pipeline against bundled sample sites, offline.

Three sample sites (a French and a Dutch diaspora news site in SPIP's shape, an English
WordPress site) are served on 127.0.0.1; a config pointing at them is written next to the
database; one real pass runs (Scrapy crawl, extraction, dedup against the seed corpus, topic
matching, outbox) and the alerts land in a Maildir.

The sites listen on fixed ports (8701, 8702, 8703 by default), so the config the demo
writes stays valid: ``newswatch demo --serve`` keeps them up after the pass, until Ctrl-C,
and every command of the README's "Use" section works against ``demo-output/newswatch.toml``
meanwhile.
"""

from __future__ import annotations

import mailbox
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.header import decode_header, make_header
from pathlib import Path

import click

from pipelines.errors import UsageError
from pipelines.store import Store
from samples.localserver import SITES_DIR, SiteServers
from samples.manifest import load_manifest, write_config

DEMO_SITES = ("bladi", "bladna", "trends")
DEMO_PORT = 8701  # bladi; bladna and trends on the next two ports


class FixedPortServers(SiteServers):
    """The sample sites on ``port``, ``port + 1``... (port 0: any free port each)."""

    def __init__(self, root: Path, names: Iterable[str], port: int) -> None:
        names = list(names)
        super().__init__(root, names)
        if port:
            for i, name in enumerate(names):
                self._sites[name].port = port + i


@contextmanager
def demo_sites(port: int) -> Iterator[SiteServers]:
    servers = FixedPortServers(SITES_DIR, DEMO_SITES, port)
    try:
        servers.start()
    except OSError as exc:
        servers.stop()
        last = port + len(DEMO_SITES) - 1
        raise UsageError(
            f"ports {port}-{last} on 127.0.0.1: {exc.strerror} (is `newswatch demo --serve`"
            " running already?): --port N for other ports, --port 0 for any free ones"
        ) from None
    try:
        yield servers
    finally:
        servers.stop()


def run_demo(output: Path, *, port: int = DEMO_PORT, serve: bool = False) -> int:
    from crawler.cli.alerts import preview_text
    from crawler.cli.passtable import print_pass
    from crawler.passes import run_pass
    from pipelines.config import load_config
    from pipelines.outbox import open_channels
    from pipelines.store import open_store

    output = output.resolve()
    _reset(output)
    config_path = output / "newswatch.toml"
    with demo_sites(port) as servers:
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
            from pipelines.feed import build_feed  # the Atom feed of the matches

            (output / "matches.xml").write_bytes(build_feed(store, config, None))
            click.echo(f"feed of the matches: {output / 'matches.xml'}")
        alerts = [m for m in report.delivery.messages if m.message.kind == "alert"]
        if alerts:
            click.echo("\nThe first alert email, as text:\n")
            click.echo(preview_text(alerts[0]))
        click.echo(f"config: {config_path}\ndatabase: {config.store_path}")
        if not serve:
            click.echo(
                f"try: {_program()} --config {config_path} alerts list\n"
                f"keep the sample sites up for that config: {_program()} demo --serve"
            )
            return int(report.exit_code)
        click.echo(
            "\nserving the sample sites until Ctrl-C; meanwhile, in another terminal:\n"
            f"  export NEWSWATCH_CONFIG={_shown(config_path)}\n"
            f"  {_program()} run; {_program()} report -o report.html; {_program()} serve",
        )
        sys.stdout.flush()
        wait_for_stop()
    return int(report.exit_code)


def wait_for_stop() -> None:
    """Until SIGINT (Ctrl-C) or SIGTERM; no traceback either way."""
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    while not done.wait(3600):
        pass
    click.echo("demo sites stopped")


def _shown(path: Path) -> str:
    """``demo-output/newswatch.toml`` when under the current folder, else the full path."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
