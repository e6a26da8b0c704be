"""``newswatch topics``: evaluate the topic rules and explain how one article scores."""

from __future__ import annotations

import click


@click.group()
def topics() -> None:
    """Evaluate and explain the topic rules."""
