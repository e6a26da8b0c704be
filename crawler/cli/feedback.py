"""``newswatch feedback``: the analyst's label on an article."""

from __future__ import annotations

import click


@click.command()
def feedback() -> None:
    """Label an article relevant or not relevant."""
