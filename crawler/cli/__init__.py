"""The ``newswatch`` command line.

A thin group: each command lives in a module of this package (``run``, ``alerts``,
``sources``, ``topics``, ``export``, ``report``, ``serve``, ``ops``) over a service of
``crawler/`` or ``pipelines/``. The exit codes are :class:`pipelines.errors.ExitCode`;
``newswatch --help`` lists them from there.

The group's own options (``--config``, ``--verbose``) may also come after the subcommand:
``newswatch alerts list --config demo-output/newswatch.toml`` works as typed.
"""

from __future__ import annotations

from typing import Any

import click

from crawler.cli.common import State
from pipelines import __version__
from pipelines.errors import ExitCode

# The group's options, as they may appear anywhere on the command line: name -> takes a value.
_GLOBAL_OPTIONS = {"--config": True, "-v": False, "--verbose": False}


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the group's options moved in front of the subcommand.

    Only whole arguments are moved (``--config PATH``, ``--config=PATH``, ``-v``,
    ``--verbose``), and nothing after a ``--``; an option value that happens to read
    ``--config`` (``--source --config``) is taken for the option, as click would.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if name in _GLOBAL_OPTIONS:
            takes_value = _GLOBAL_OPTIONS[name]
            if takes_value and "=" not in arg and i + 1 < len(args):
                front += [arg, args[i + 1]]
                i += 2
                continue
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class NewswatchGroup(click.Group):
    """A group that accepts its own options before or after the subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def format_usage(self, ctx: click.Context, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, "[--config PATH] COMMAND [ARGS]...")


@click.group(cls=NewswatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="NEWSWATCH_CONFIG",
    help="Config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml); before or after"
    " the command.",
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
    from crawler.cli.report import report
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
    main.add_command(report)


_register_groups()
