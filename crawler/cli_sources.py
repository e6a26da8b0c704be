"""``newswatch sources``: the health of each configured source, and checking a new one."""

from __future__ import annotations

import click


@click.group()
def sources() -> None:
    """Inspect the configured sources."""
