"""``newswatch stories``: the stories articles were grouped into."""

from __future__ import annotations

import click


@click.group()
def stories() -> None:
    """Stories: one event told by many outlets, in many languages."""
