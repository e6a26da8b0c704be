"""What every ``newswatch`` subcommand shares: the state object, clean failures, and
opening the dataset for a command that only reads it (:func:`open_existing_store`).

Subcommand groups live in their own modules (``cli_sources``, ``cli_topics``, ``cli_ops``)
and are registered on the main group in ``crawler/cli/__init__.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pipelines.config import Config, load_config, resolve_config_path
from pipelines.errors import (
    ConfigError,
    ExitCode,
    NewswatchError,
    PassRunning,
    StoreError,
    UsageError,
)

if TYPE_CHECKING:
    from pipelines.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def fail_cleanly(fn: F) -> F:
    """Turn our own errors into one readable line and the documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                return fn(*args, **kwargs)
            except Exception:
                # SQLite's own errors (a database locked past its busy timeout, a full disk)
                # become a StoreError naming the database file. Only the store speaks SQL:
                # with the store not imported, no such error can have come; and a command
                # that starts the extraction workers imports it only after it has.
                store = sys.modules.get("pipelines.store")
                if store is None:
                    raise
                with store.store_errors(_StorePath(args)):
                    raise
        except ConfigError as exc:
            click.echo(f"newswatch: configuration error: {exc}", err=True)
            sys.exit(ExitCode.CONFIG)
        except UsageError as exc:
            click.echo(f"newswatch: usage error: {exc}", err=True)
            sys.exit(ExitCode.CONFIG)
        except StoreError as exc:
            click.echo(f"newswatch: database error: {exc}", err=True)
            sys.exit(ExitCode.STORE)
        except PassRunning as exc:
            click.echo(f"newswatch: {exc}", err=True)
            sys.exit(ExitCode.PASS_RUNNING)
        except NewswatchError as exc:
            click.echo(f"newswatch: error: {exc}", err=True)
            sys.exit(ExitCode.FAILED)

    return wrapper  # type: ignore[return-value]


class _StorePath:
    """The database file of the command's config, read only when an error names it."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args

    def __str__(self) -> str:
        for arg in self.args:
            if isinstance(arg, State) and arg._config is not None:
                from pipelines.store import store_name

                return store_name(arg._config)
        return "database"


class State:
    def __init__(self, config_path: str | None, verbose: bool) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(resolve_config_path(self.config_path))
        return self._config


pass_state = click.make_pass_decorator(State)


def open_existing_store(state: State) -> Store:
    """The dataset of ``state``'s config, for a command that reads it (``export``,
    ``report``, ``serve``, ``alerts list``...): a database that does not exist yet is not
    created, the command fails with one line saying how to make one (exit 2).

    Use it as ``with open_existing_store(state) as store: ...``.
    """
    from pipelines.store import open_config_store

    if state.config.store_url:  # the server says when the database is missing
        return open_config_store(state.config)
    path = state.config.store_path
    if not path.is_file():
        raise UsageError(
            f"no database at {path} yet (config {state.config.path}); "
            f"`newswatch --config {state.config.path} init` or a pass creates it"
        )
    return open_config_store(state.config)
