"""``newswatch serve``: the dataset in Datasette."""

from __future__ import annotations

import click


@click.command()
def serve() -> None:
    """Browse the dataset in Datasette on 127.0.0.1."""
