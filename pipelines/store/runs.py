"""Passes (``runs``) and per-source health (``source_health``)."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class RunOps(StoreBase):
    """Operations on runs."""
