"""``newswatch cluster``: a pass whose crawls run as Scrapyd jobs (``crawler/cluster.py``).

``cluster run`` prints one line per node or job event, then the same table and summary as
``newswatch run`` and exits with the same codes; ``cluster status`` asks each node how it
stands.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from crawler.cli.common import State, fail_cleanly, pass_state

if TYPE_CHECKING:
    from pipelines.config import Config


@click.group()
def cluster() -> None:
    """Passes crawled by Scrapyd nodes ([cluster] scrapyd in the config).

    \b
    Example:
        newswatch --config newswatch.toml cluster run
        newswatch cluster status
    """


@cluster.command("run")
@click.option(
    "--source", "only", multiple=True, metavar="NAME", help="Crawl only this source (repeatable)."
)
@click.option("--no-send", is_flag=True, help="Queue alerts but do not send them.")
@click.option(
    "--node-config",
    metavar="PATH",
    help="The config file's path as the nodes read it (default: this config's absolute"
    " path, for nodes on this machine or sharing its file system).",
)
@click.option(
    "--deploy/--no-deploy",
    default=True,
    show_default=True,
    help="Deploy this checkout's egg on every node that lacks it, or only check that the"
    " project is there (deployed with scrapyd-deploy).",
)
@pass_state
@fail_cleanly
def run(
    state: State, only: tuple[str, ...], no_send: bool, node_config: str | None, deploy: bool
) -> None:
    """One pass: every enabled source crawled by a Scrapyd job, then health and alerts.

    Exits as `newswatch run`: 0 when the pass completed, 1 when a source failed as a whole
    (or its job failed [cluster] max_attempts times, or no node could crawl), 2 on a
    configuration error (a node refusing the login included), 3 when alerts could not be
    sent, 4 on a database error, 5 when another pass is running.

    \b
    Example:
        newswatch --config newswatch.toml cluster run
        newswatch cluster run --source bladi_net --no-send
    """
    from crawler.cli.alerts import print_send_report
    from crawler.cli.passtable import print_pass
    from crawler.cluster import run_cluster_pass
    from pipelines.outbox import open_channels

    config = state.config
    sources = [config.source(n) for n in only] if only else config.enabled_sources()
    channels = None if no_send else open_channels(config, os.environ)
    report = run_cluster_pass(
        config,
        sources=sources,
        channels=channels,
        node_config=node_config,
        deploy=deploy,
        on_event=_event,
    )
    print_pass(report)
    if report.delivery is not None and channels is not None:
        print_send_report(report.delivery, channels)
    sys.exit(report.exit_code)


def _event(line: str) -> None:
    """A node or job event: problems (``newswatch: ...``) on stderr, the rest on stdout."""
    click.echo(line, err=line.startswith("newswatch: "))


@cluster.command("status")
@pass_state
@fail_cleanly
def status(state: State) -> None:
    """How each Scrapyd node of [cluster] scrapyd stands: jobs and the deployed version.

    \b
    Example:
        newswatch --config newswatch.toml cluster status
    """
    from crawler.cli.passtable import table

    rows = node_status(state.config)
    columns = ("node", "state", "pending", "running", "finished", "version")
    for line in table(columns, rows, left={0, 1, 5}):
        click.echo(line)
    sys.exit(0 if rows and all(r[1] == "ok" for r in rows) else 1)


def node_status(config: Config) -> list[tuple[str, str, int, int, int, str]]:
    """``cluster status``: (node, state, pending, running, finished, newest version)."""
    from crawler.scrapydnodes import ClusterError, Node, scrapyd_auth
    from pipelines.errors import ConfigError

    auth = scrapyd_auth()
    rows = []
    for url in config.cluster.scrapyd:
        node = Node(url, config.cluster.project, auth)
        try:
            status = node.call("daemonstatus")
            versions = node.call("listversions", project=node.project).get("versions", [])
        except (ClusterError, ConfigError) as exc:
            rows.append((url, str(exc).removeprefix(f"Scrapyd node {url}: "), 0, 0, 0, "-"))
            continue
        pending, running, finished = (
            int(status.get(k, 0)) for k in ("pending", "running", "finished")
        )
        newest = str(versions[-1]) if versions else "not deployed"
        rows.append((url, "ok", pending, running, finished, newest))
    return rows
