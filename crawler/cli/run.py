"""Commands that prepare and run passes: ``init``, ``run`` and ``demo``.

They are thin: a pass is :func:`crawler.passes.run_pass`; this module reads the flags,
opens the channels before the crawl (a bad setting costs no crawl) and prints the report.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, pass_state


@click.command()
@pass_state
@fail_cleanly
def init(state: State) -> None:
    """Create or migrate the database and import the seed corpus (safe to run twice).

    \b
    Example:
        newswatch --config newswatch.toml init
    """
    from pipelines.seeds import import_seeds, seed_files
    from pipelines.store import open_config_store, store_name

    config = state.config
    with open_config_store(config) as store:
        added = import_seeds(store, config.topics)
    click.echo(
        f"database {store_name(config)}: ready; seed corpus: {added} added, "
        f"{len(seed_files())} in all"
    )


@click.command()
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
    help="A live table of the sources, then the pass table and the new relevant titles"
    " (default on a terminal), or one summary line (default under cron).",
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
    from pipelines.collector import collection_paused

    with collection_paused():  # until the crawls are set up: see pipelines/collector.py
        _run(state, only, baseline, no_send, progress)


def _run(
    state: State, only: tuple[str, ...], baseline: bool, no_send: bool, progress: bool | None
) -> None:
    from contextlib import nullcontext

    from pipelines.forkserver import prestart

    # The extraction workers' server imports its modules on another core while this
    # process imports and sets up the crawl (pipelines/forkserver.py).
    prestart(state.config.crawl.workers)

    from crawler.cli.passtable import print_pass
    from crawler.cli.progress import LiveSources, print_new_relevant, print_unattended
    from crawler.passes import run_pass
    from pipelines.store import open_config_store

    config = state.config
    sources = [config.source(n) for n in only] if only else config.enabled_sources()
    channels = None
    if not no_send:  # the outbox and the channels' modules only for a pass that sends
        from pipelines.outbox import open_channels

        channels = open_channels(config, os.environ)
    live = sys.stdout.isatty() if progress is None else progress
    # A live table only where it can be redrawn (a terminal); --progress into a pipe gets
    # the pass table alone.
    display = LiveSources([s.name for s in sources]) if live and sys.stdout.isatty() else None
    with display if display is not None else nullcontext():
        report = run_pass(
            config,
            sources=sources,
            channels=channels,
            baseline=baseline,
            verbose=state.verbose,
            quiet=not live,
            on_tick=display.tick if display is not None else None,
        )
    if live:
        print_pass(report)
        with open_config_store(config) as store:
            print_new_relevant(store.new_relevant_of_run(report.run_id))
    else:
        print_unattended(report)
    if report.delivery is not None and channels is not None:
        from crawler.cli.alerts import print_send_report

        print_send_report(report.delivery, channels)
    sys.exit(report.exit_code)


@click.command()
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the demo database, config and Maildir.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="After the pass, keep the sample sites up until Ctrl-C, so the demo's config keeps"
    " working for every other command.",
)
@click.option(
    "--port",
    default=8701,
    show_default=True,
    type=click.IntRange(0, 65533),
    help="The first sample site's port (the others take the next ones); 0: any free ports.",
)
@fail_cleanly
def demo(output: Path, serve: bool, port: int) -> None:
    """Serve bundled sample sites on 127.0.0.1 and run a whole pass against them, offline.

    The sites listen on fixed ports, so the config written to the output folder stays
    valid: with --serve they stay up until Ctrl-C, and every command works against
    demo-output/newswatch.toml meanwhile (export NEWSWATCH_CONFIG=demo-output/newswatch.toml).

    \b
    Example:
        newswatch demo
        newswatch demo --serve
        newswatch demo --output /tmp/nw-demo --port 9701
    """
    from samples.demo import run_demo

    sys.exit(run_demo(output, port=port, serve=serve))
