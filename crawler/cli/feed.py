"""``newswatch feed``: an Atom feed of the latest matches."""

from __future__ import annotations

import click


@click.command()
def feed() -> None:
    """Write an Atom feed of the latest relevant items."""
