"""Errors that name their culprit, so a user knows which file, key or server to fix."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``newswatch`` command's exit status means (README, ``newswatch --help``)."""

    OK = 0  # the command did its work
    FAILED = 1  # a source failed as a whole (run) or is failing (sources status); a check failed
    CONFIG = 2  # a configuration or usage error: the message names the file and the key
    DELIVERY = 3  # alerts could not be delivered: they stay queued, the next pass retries
    STORE = 4  # the database could not be opened or written
    PASS_RUNNING = 5  # another pass holds the lock of the same database

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "the command did its work",
    ExitCode.FAILED: (
        "a source failed as a whole (run) or is failing (sources status);"
        " a check failed (doctor, sources check)"
    ),
    ExitCode.CONFIG: "a configuration or usage error",
    ExitCode.DELIVERY: "alerts could not be delivered (they stay queued)",
    ExitCode.STORE: "the database could not be opened or written",
    ExitCode.PASS_RUNNING: "another pass is running on the same database",
}


class NewswatchError(Exception):
    """Base class: every error newswatch raises on purpose carries a readable message."""


class ConfigError(NewswatchError):
    """A configuration value is missing or wrong.

    The message always names the file and the dotted key, e.g.
    ``newswatch.toml: sources[2].feeds[0]: not an http(s) URL: 'ftp://x'``.
    """

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"{path}: {key}: {problem}")


class UsageError(NewswatchError):
    """A command was given something it cannot use (a missing file, an unknown id); the
    message names it. Exit status 2, as for a configuration error."""


class DeliveryError(NewswatchError):
    """An alert email could not be handed to its transport (SMTP server or Maildir)."""


class StoreError(NewswatchError):
    """The database file cannot be opened, migrated or written (raised by pipelines/store/,
    defined here so that a command can name it without importing the store)."""


class PassRunning(NewswatchError):
    """Another pass holds the lock of this dataset (pipelines/store/lock.py)."""
