"""What every bench compares newswatch with: the call a user of trafilatura would make."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import trafilatura

from pipelines.extract.speedups import plain

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
PAGES = DATA / "real"  # <id>.html.gz beside <id>.json


def bare_extract(html: bytes, url: str | None = None) -> str | None:
    """Bare trafilatura: the text and metadata of a page, precision first, no comments
    (trafilatura's own XPath expressions, also where newswatch sped them up in this
    process: pipelines/extract/speedups.py)."""
    with plain():
        return trafilatura.extract(
            html, url=url, with_metadata=True, favor_precision=True, include_comments=False
        )


def load_pages() -> list[tuple[str, bytes]]:
    """The real pages: (URL, bytes), in a stable order."""
    truth = json.loads((DATA / "real-ground-truth.json").read_text(encoding="utf-8"))
    return [
        (meta["url"], gzip.decompress((PAGES / f"{key}.html.gz").read_bytes()))
        for key, meta in sorted(truth.items())
    ]
