"""Errors that name their culprit, so a user knows which file, key or server to fix."""

from __future__ import annotations


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


class DeliveryError(NewswatchError):
    """An alert email could not be handed to its transport (SMTP server or Maildir)."""
