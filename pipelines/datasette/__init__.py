"""Datasette metadata for the dataset: titles, descriptions, facets, canned queries.

``newswatch serve`` hands :func:`build_metadata` to Datasette; anyone running
``datasette newswatch.db -m metadata.json`` gets the same from ``newswatch serve
--write-metadata metadata.json``. Column descriptions are docs/dataset.md's own words,
kept in ``columns.json`` (``python -m pipelines.datasette docs/dataset.md`` rewrites it;
a test checks it is up to date).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from importlib.resources import files
from typing import Any

from pipelines import __version__

__all__ = ["HIDDEN", "QUERIES", "build_metadata", "columns", "parse_columns"]

SOURCE_URL = "https://github.com/newswatch/newswatch"
LICENSE = "Articles: their outlets' copyright; dataset schema and queries: MIT"

# Tables a reader has no use for: indexes and bookkeeping (docs/dataset.md, "Internal
# tables"), and the full-text index's shadow tables. Any table :data:`_TABLES` does not
# describe is hidden too (a new index table stays out of sight until described there).
HIDDEN = (
    "_migrations",
    "seen_urls",
    "shingles",
    "http_validators",
    "articles_fts",
    "articles_fts_data",
    "articles_fts_idx",
    "articles_fts_docsize",
    "articles_fts_config",
)

# Per table: (title, description, facets, newest-first column, label column).
_TABLES: dict[str, tuple[str, str, tuple[str, ...], str | None, str | None]] = {
    "articles": (
        "Articles",
        "Every extracted article page, copies included, and one row per seed file.",
        ("source", "lang", "relevant", "found_via"),
        "published",
        "title",
    ),
    "relevant_articles": (
        "Relevant articles",
        "Crawled articles that matched a topic and copy nothing, newest first.",
        ("source", "lang", "topic_names"),
        "day",
        "title",
    ),
    "copies": (
        "Copies",
        "Stored copies beside the original they copy (a seed file or an earlier article).",
        ("source", "original_source", "copies_seed"),
        "day",
        "title",
    ),
    "source_activity": (
        "Source activity per day",
        "Per source and day: passes, requests, errors, articles stored, copies, relevant.",
        ("source",),
        "day",
        None,
    ),
    "runs": ("Passes", "One row per pass and its counts.", ("status",), "id", None),
    "alerts": ("Alerts", "The alert outbox.", ("status", "topic"), "created_at", None),
    "deliveries": (
        "Deliveries",
        "Delivery state per alert or notice and channel.",
        ("kind", "channel", "status"),
        "id",
        None,
    ),
    "source_health": ("Source health", "One row per source.", ("state",), "updated_at", None),
    "notices": ("Operator notices", "Source failing or recovered.", ("kind",), "created_at", None),
    "stories": (
        "Stories",
        "One event told by many outlets, in many languages.",
        (),
        "updated_at",
        "title",
    ),
}

QUERIES: dict[str, dict[str, Any]] = {
    "new_relevant_this_week": {
        "title": "New relevant items this week",
        "description": "Relevant articles stored in the last 7 days that copy nothing.",
        "sql": (
            "select id, day, source, lang, title, url, topic_names, score\n"
            "from relevant_articles\n"
            "where fetched_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days')\n"
            "order by day desc, id desc"
        ),
    },
    "copies_of_seeds": {
        "title": "Copies of the seed corpus",
        "description": "Crawled articles that copy a seed file (no alert was sent for them).",
        "sql": (
            "select id, day, source, lang, title, url, overlap, original_title, original_url\n"
            "from copies where copies_seed = 1 order by day desc, id desc"
        ),
    },
    "source_passes": {
        "title": "A source's last passes",
        "description": "The last 20 passes that read one source, with their counts.",
        "sql": (
            "select r.id as run, r.started_at, r.status,\n"
            "  json_extract(s.value, '$.requests') as requests,\n"
            "  json_extract(s.value, '$.new') as new,\n"
            "  json_extract(s.value, '$.relevant') as relevant,\n"
            "  json_extract(s.value, '$.errors') as errors,\n"
            "  json_extract(s.value, '$.stopped') as stopped\n"
            "from runs r, json_each(r.sources) s\n"
            "where s.key = :source order by r.id desc limit 20"
        ),
    },
}

STORIES_QUERY = {
    "title": "Stories",
    "description": "Stories with a relevant article, latest change first: how many"
    " articles, outlets and languages.",
    "sql": (
        "select id, title, first_seen, updated_at, article_count, sources, languages\n"
        "from stories order by updated_at desc limit 200"
    ),
}


def columns() -> dict[str, dict[str, str]]:
    """Column descriptions per table, from docs/dataset.md (``columns.json``)."""
    text = (files("pipelines.datasette") / "columns.json").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, str]] = json.loads(text)
    return loaded


def build_metadata(db_name: str, tables: Collection[str]) -> dict[str, Any]:
    """Datasette metadata for the database ``db_name`` holding ``tables`` (views too)."""
    described = columns()
    table_meta: dict[str, Any] = {
        name: {"hidden": True} for name in sorted(tables) if name not in _TABLES
    }
    for name, (title, description, facets, newest, label) in _TABLES.items():
        if name not in tables:
            continue
        meta: dict[str, Any] = {
            "title": title,
            "description": description,
            "facets": list(facets),
        }
        if newest:
            meta["sort_desc"] = newest
        if label:
            meta["label_column"] = label
        if name in described:
            meta["columns"] = described[name]
        table_meta[name] = meta
    queries = dict(QUERIES)
    if "stories" in tables:
        queries["stories"] = STORIES_QUERY
    return {
        "title": "newswatch",
        "description": (
            "News articles on the configured topics, collected by newswatch: every article"
            " page, copies marked, relevant items matched to their topic."
        ),
        "license": LICENSE,
        "source": f"newswatch {__version__}",
        "source_url": SOURCE_URL,
        "databases": {
            db_name: {
                "title": "newswatch dataset",
                "description": "See docs/dataset.md for every table and column.",
                "tables": table_meta,
                "queries": queries,
            }
        },
    }


_HEADING = re.compile(r"^#+\s+`(\w+)`")
_ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*(.+?)\s*\|\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def parse_columns(markdown: str) -> dict[str, dict[str, str]]:
    """Column descriptions from the tables under each ``## `table` `` heading of
    docs/dataset.md; a row naming several columns gives each the same description."""
    found: dict[str, dict[str, str]] = {}
    current: str | None = None
    for line in markdown.splitlines():
        if heading := _HEADING.match(line):
            current = heading.group(1)
            continue
        if line.startswith("#"):
            current = None
            continue
        row = _ROW.match(line)
        if current is None or row is None:
            continue
        names = re.findall(r"`(\w+)`", row.group(1))
        if not names or row.group(1).startswith("---"):
            continue
        text = _LINK.sub(r"\1", row.group(2)).replace("`", "")
        for name in names:
            found.setdefault(current, {})[name] = text
    return found
