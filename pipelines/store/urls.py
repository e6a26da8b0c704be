"""URLs: which pages were seen, as what, and which stored article a URL names."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class UrlOps(StoreBase):
    """Operations on urls."""
