"""Articles: rows, their text, their topics, their copies."""

from __future__ import annotations

from pipelines.store.base import StoreBase


class ArticleOps(StoreBase):
    """Operations on articles."""
