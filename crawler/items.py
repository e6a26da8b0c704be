"""What the spider hands to the item pipeline: a fetched page, not yet judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageItem:
    url: str
    final_url: str
    body: bytes
    source: str
    found_via: str
    encoding: str | None = None
    status: int = 200
    hints: dict[str, Any] = field(default_factory=dict)  # feed_title, feed_published, lang
