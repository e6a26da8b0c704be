"""The outbox: alert and notice rows, and their delivery state per channel."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class OutboxOps(StoreBase):
    """Operations on outbox."""
