"""Shape checks of the labelled story set (pipelines/stories/eval/stories.jsonl).

Fast and data-only: the set parses, every line carries the documented fields with valid
values, the set is large and varied enough to measure story clustering on, and its internal
references (copies, reactions) hold together.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORY_SET = ROOT / "pipelines" / "stories" / "eval" / "stories.jsonl"

FIELDS = {
    "id",
    "story",
    "lang",
    "source",
    "published",
    "title",
    "text",
    "kind",
    "copy_of",
    "relevant",
    "reacts_to",
}
LANGS = {"fr", "nl", "en", "ar", "es", "he"}
KINDS = {"report", "copy", "reaction", "update", "brief"}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def load() -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(STORY_SET.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not an object"
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return load()


def test_every_line_has_exactly_the_documented_fields(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert set(row) == FIELDS, row.get("id")
        assert row["lang"] in LANGS, row["id"]
        assert row["kind"] in KINDS, row["id"]
        assert isinstance(row["relevant"], bool), row["id"]
        assert ISO_WITH_OFFSET.match(row["published"]), row["id"]
        for field in ("id", "story", "source", "title", "text"):
            assert isinstance(row[field], str) and row[field].strip(), (row["id"], field)
        assert row["id"].startswith(row["story"] + "-"), row["id"]


def test_ids_are_unique(rows: list[dict[str, Any]]) -> None:
    counts = Counter(row["id"] for row in rows)
    assert [i for i, n in counts.items() if n > 1] == []


def test_set_is_large_and_spans_six_languages(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= 200
    assert len({row["story"] for row in rows}) >= 40
    per_lang = Counter(row["lang"] for row in rows)
    assert set(per_lang) == LANGS
    assert min(per_lang.values()) >= 25, per_lang


def test_stories_hold_two_to_twelve_articles_of_one_relevance(
    rows: list[dict[str, Any]],
) -> None:
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        stories[row["story"]].append(row)
    for story, members in stories.items():
        assert 2 <= len(members) <= 12, story
        assert len({m["relevant"] for m in members}) == 1, story
    assert any(m[0]["relevant"] for m in stories.values())
    assert any(not m[0]["relevant"] for m in stories.values())


def test_copies_point_at_an_original_in_the_same_story(rows: list[dict[str, Any]]) -> None:
    by_id = {row["id"]: row for row in rows}
    copies = [row for row in rows if row["copy_of"] is not None]
    assert copies, "the set must hold wire copies"
    for row in copies:
        assert row["kind"] == "copy", row["id"]
        original = by_id[row["copy_of"]]
        assert original["story"] == row["story"], row["id"]
        assert original["copy_of"] is None, row["id"]
        published = datetime.fromisoformat(row["published"])
        assert datetime.fromisoformat(original["published"]) <= published, row["id"]
    assert all(row["copy_of"] is not None for row in rows if row["kind"] == "copy")


def test_reactions_point_at_another_existing_story(rows: list[dict[str, Any]]) -> None:
    stories = {row["story"] for row in rows}
    reactions = [row for row in rows if row["reacts_to"] is not None]
    assert reactions, "the set must hold third-party reactions"
    for row in reactions:
        assert row["reacts_to"] in stories, row["id"]
        assert row["reacts_to"] != row["story"], row["id"]


def test_set_holds_every_kind_of_article(rows: list[dict[str, Any]]) -> None:
    assert {row["kind"] for row in rows} == KINDS
