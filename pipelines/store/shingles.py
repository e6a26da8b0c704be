"""The near-duplicate index: sampled shingle hashes of every original document."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class ShingleOps(StoreBase):
    """Operations on shingles."""
