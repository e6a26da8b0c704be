"""The seed files' languages ship in a manifest (pipelines/seed_corpus/languages.json), so
that a first pass does not load the language model for them; the manifest must stay true."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from imports import imported_along
from py3langid.langid import MODEL_FILE, LanguageIdentifier

import pipelines.seeds as seeds
from pipelines.seeds import import_seeds, seed_files, seed_languages
from pipelines.store import open_store


def test_the_manifest_holds_every_seed_file_with_its_text_and_language() -> None:
    known = seed_languages()
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    assert sorted(known) == [f.name for f in seed_files()]
    for f in seed_files():
        text = f.read_text(encoding="utf-8").strip()
        assert known[f.name]["sha256"] == hashlib.sha256(text.encode()).hexdigest(), f.name
        assert known[f.name]["lang"] == str(identifier.classify(text)[0]), f.name


def test_a_first_import_loads_no_language_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*args: object, **kwargs: object) -> LanguageIdentifier:
        raise AssertionError("the manifest should have given every language")

    monkeypatch.setattr(LanguageIdentifier, "from_model_file", no_model)
    with open_store(tmp_path / "nw.db") as store:
        assert import_seeds(store, []) == 5
        langs = [r[0] for r in store.db.execute("SELECT lang FROM articles ORDER BY url")]
    assert langs == [seed_languages()[f.name]["lang"] for f in seed_files()]


def test_a_seed_whose_text_the_manifest_does_not_know_is_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = {name: {**entry, "sha256": "0" * 64, "lang": "xx"} for name, entry in
             seed_languages().items()}  # fmt: skip
    monkeypatch.setattr(seeds, "seed_languages", lambda: wrong)
    with open_store(tmp_path / "nw.db") as store:
        assert import_seeds(store, []) == 5
        langs = {r[0] for r in store.db.execute("SELECT lang FROM articles")}
    assert "xx" not in langs and langs <= {"en", "fr", "nl"}


def _import_after(barrier: Any, path: str) -> int:
    with open_store(Path(path)) as store:
        barrier.wait(timeout=30)
        return import_seeds(store, [])


def test_two_processes_importing_the_seeds_at_once_store_each_seed_once(tmp_path: Path) -> None:
    """Two crawls starting together on a new dataset (Scrapyd jobs, processes sharing a
    frontier) both import the seeds: neither fails, and each seed is stored once."""
    path = tmp_path / "nw.db"
    with open_store(path):
        pass  # created and migrated once, as a pass does before its crawls start
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with context.Pool(2) as pool:
        added = pool.starmap(_import_after, [(barrier, str(path))] * 2)
    assert sum(added) == 5
    with open_store(path) as store:
        urls = [r[0] for r in store.db.execute("SELECT url FROM articles ORDER BY url")]
    assert urls == [f"seed:{f.name}" for f in seed_files()]


def test_importing_the_seeds_module_brings_no_language_model_library() -> None:
    assert imported_along(["pipelines.seeds"], ["py3langid", "numpy"]) == []
