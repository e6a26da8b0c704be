"""Discovery pages' ETag / Last-Modified, kept per source for conditional GETs."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class ValidatorOps(StoreBase):
    """Operations on validators."""
