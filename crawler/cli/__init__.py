"""The ``newswatch`` command line.

A thin group: each command lives in a module of this package (``run``, ``alerts``,
``sources``, ``topics``, ``export``, ``ops``) over a service of ``crawler/`` or
``pipelines/``. The exit codes are :class:`pipelines.errors.ExitCode`; ``newswatch --help``
lists them from there.
"""

from __future__ import annotations

import click

from crawler.cli.common import State
from pipelines import __version__
from pipelines.errors import ExitCode


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
    {exit_codes}
    """
    from crawler.cli.progress import setup_logging

    setup_logging(verbose)
    ctx.obj = State(config_path, verbose)


# The exit codes are defined once (pipelines.errors.ExitCode); the help lists them from there.
main.help = (main.help or "").format(
    exit_codes="\n    ".join(f"{int(c)}  {c.meaning}" for c in ExitCode)
)


def _register_groups() -> None:
    from crawler.cli.alerts import alerts
    from crawler.cli.export import export
    from crawler.cli.feed import feed
    from crawler.cli.feedback import feedback
    from crawler.cli.ops import doctor, schedule
    from crawler.cli.run import demo, init, run
    from crawler.cli.serve import serve
    from crawler.cli.sources import sources
    from crawler.cli.stories import stories
    from crawler.cli.topics import topics

    main.add_command(alerts)
    main.add_command(sources)
    main.add_command(topics)
    main.add_command(schedule)
    main.add_command(doctor)
    main.add_command(export)
    main.add_command(init)
    main.add_command(run)
    main.add_command(demo)
    main.add_command(stories)
    main.add_command(feedback)
    main.add_command(serve)
    main.add_command(feed)


_register_groups()
