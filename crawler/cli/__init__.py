"""The ``newswatch`` command line.

A thin group: each command lives in a module of this package (``run``, ``alerts``,
``sources``, ``topics``, ``export``, ``report``, ``serve``, ``ops``) over a service of
``crawler/`` or ``pipelines/``. The exit codes are :class:`pipelines.errors.ExitCode`;
``newswatch --help`` lists them from there.

The group's own options (``--config``, ``--verbose``) may also come after the subcommand:
``newswatch alerts list --config demo-output/newswatch.toml`` works as typed.
"""

from __future__ import annotations

import importlib
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
    """A group that accepts its own options before or after the subcommand, and imports a
    command's module only when that command is asked for (click's lazy-group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, _, attribute = _COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

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


# Each command's module is imported when the command runs (or when the help lists it):
# ``newswatch run`` does not pay for the modules of ``export``, ``serve`` or ``report``.
_COMMANDS = {
    "alerts": "crawler.cli.alerts:alerts",
    "cluster": "crawler.cli.cluster:cluster",
    "demo": "crawler.cli.run:demo",
    "doctor": "crawler.cli.ops:doctor",
    "export": "crawler.cli.export:export",
    "feed": "crawler.cli.feed:feed",
    "feedback": "crawler.cli.feedback:feedback",
    "init": "crawler.cli.run:init",
    "report": "crawler.cli.report:report",
    "run": "crawler.cli.run:run",
    "schedule": "crawler.cli.ops:schedule",
    "serve": "crawler.cli.serve:serve",
    "sources": "crawler.cli.sources:sources",
    "stories": "crawler.cli.stories:stories",
    "topics": "crawler.cli.topics:topics",
}
