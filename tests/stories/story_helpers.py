"""Helpers for the story tests: a store holding articles written here, by label."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.store import Store, open_store
from pipelines.stories.evaluate import store_labelled
from pipelines.topics import default_topics

HERE = Path(__file__).parent
MINI_SET = HERE / "mini_set.jsonl"


def mini_rows() -> dict[str, dict[str, Any]]:
    """The small labelled set written for these tests, by id."""
    rows = [json.loads(line) for line in MINI_SET.read_text("utf-8").splitlines() if line]
    return {r["id"]: r for r in rows}


class Labelled:
    """A store, and the article id of each labelled row stored in it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids: dict[str, int] = {}

    def add(self, row: dict[str, Any]) -> int:
        self.ids[row["id"]] = store_labelled(self.store, row, default_topics())
        return self.ids[row["id"]]

    def story(self, label: str) -> int | None:
        return self.store.article_story(self.ids[label])


@contextlib.contextmanager
def labelled_store(path: Path) -> Iterator[Labelled]:
    """A new store at ``path``, closed on leaving."""
    store = open_store(path)
    try:
        yield Labelled(store)
    finally:
        store.close()
