"""Read-only queries for the command line: export, listings, status."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class QueryOps(StoreBase):
    """Operations on queries."""
