"""`page_metadata` is trafilatura's own metadata of a page, minus the categories, tags and
licence newswatch does not read: on every real page, the fields newswatch uses come out
exactly as ``trafilatura.metadata.extract_metadata`` gives them."""

from __future__ import annotations

import gzip
import json

import pytest
from extract_pages import REAL_PAGES, REAL_TRUTH
from trafilatura.metadata import extract_metadata

from pipelines.extract.cleanup import parse_html
from pipelines.extract.pagemeta import page_metadata

FIELDS = ("title", "author", "url", "hostname", "date", "sitename")
TRUTH = json.loads(REAL_TRUTH.read_text("utf-8"))


@pytest.mark.parametrize("extensive", [True, False])
def test_the_fields_newswatch_reads_are_trafilaturas_own(extensive: bool) -> None:
    params = {"original_date": True, "extensive_search": extensive}
    differ = []
    for page_id, truth in TRUTH.items():
        html = gzip.decompress((REAL_PAGES / f"{page_id}.html.gz").read_bytes())
        ours, theirs = parse_html(html), parse_html(html)
        assert ours is not None and theirs is not None
        mine = page_metadata(ours, truth["url"], params)
        own = extract_metadata(theirs, truth["url"], dict(params))
        differ += [(page_id, f) for f in FIELDS if getattr(mine, f) != getattr(own, f)]
    assert differ == []
    assert len(TRUTH) == 91
