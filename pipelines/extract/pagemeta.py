"""trafilatura's metadata of a page, without the parts newswatch does not use.

``bare_extraction(with_metadata=True)`` runs ``trafilatura.metadata.extract_metadata``,
which also reads the page's categories, tags and licence: about 2.5 ms a page, a tenth of
an extraction, for fields no stage of newswatch reads. `page_metadata` is that function
step for step (the meta tags, JSON-LD, title, author, URL, htmldate's date, site name),
without those three. ``tests/extract/test_pagemeta.py`` checks on every real page that
title, author, date, site name and URL come out exactly as trafilatura's own function
gives them, so a trafilatura release that changes its steps fails there.
"""

from __future__ import annotations

import logging
from typing import Any

from courlan import extract_domain
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document

log = logging.getLogger(__name__)


def page_metadata(tree: HtmlElement, url: str | None, date_params: dict[str, Any]) -> Document:
    """What ``extract_metadata(tree, url, date_params)`` says of title, author, URL, host,
    date and site name (no author blacklist: newswatch sets none)."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as err:  # noqa: BLE001 - trafilatura's own guard, kept
        log.warning("error in JSON metadata extraction: %s", err)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if (
            metadata.sitename
            and "." not in metadata.sitename
            and not metadata.sitename[0].isupper()
        ):
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        found = META_URL.match(metadata.url)
        if found:
            metadata.sitename = found[1]
    metadata.filedate = date_params.get("max_date")
    metadata.clean_and_trim()
    return metadata
