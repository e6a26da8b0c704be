"""The seed files' languages ship in a manifest (pipelines/seed_corpus/languages.json), so
that a first pass does not load the language model for them; the manifest must stay true."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
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

    monkeypatch.setattr(seeds.LanguageIdentifier, "from_model_file", no_model)
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
