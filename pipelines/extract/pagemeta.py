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

from pipelines.models import PageHints

log = logging.getLogger(__name__)


def page_metadata(
    tree: HtmlElement, url: str | None, date_params: dict[str, Any] | None
) -> Document:
    """What ``extract_metadata(tree, url, date_params)`` says of title, author, URL, host,
    date and site name (no author blacklist: newswatch sets none). ``date_params`` None:
    no date (``date`` is None), for a caller that asks htmldate only when it needs to
    (`page_date`)."""
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
    if date_params is not None:
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
    metadata.filedate = None if date_params is None else date_params.get("max_date")
    metadata.clean_and_trim()
    return metadata


def date_params(hints: PageHints) -> dict[str, Any]:
    """How htmldate searches a page for its date."""
    return {
        "original_date": True,  # the first publication, not the last update
        # Searching the free text for dates finds any date the article mentions; worth
        # it only when no feed date can stand in for a missing one.
        "extensive_search": hints.feed_published is None,
        # No "max_date" set to the fetch time: htmldate then shortens a later date to
        # the first of its month ("2024-03-12" becomes "2024-03-01"), a date the page
        # never states. htmldate keeps its own limit (today); choose_published applies
        # the fetch time to every candidate alike.
    }


def page_date(tree: HtmlElement, url: str | None, hints: PageHints) -> str | None:
    """htmldate's date of the page, as `page_metadata` would give it."""
    date: str | None = find_date(tree, **{**date_params(hints), "url": url})
    return date
