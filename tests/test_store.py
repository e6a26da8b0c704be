from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lock import PassRunning, pass_lock
from pipelines.store import MIGRATIONS, StoreError, migrate, open_db, table


def test_migrations_apply_once_and_are_safe_twice(tmp_path: Path) -> None:
    db = open_db(tmp_path / "nw.db")
    assert {r["name"] for r in table(db, "_migrations").rows} == {n for n, _ in MIGRATIONS}
    assert migrate(db) == []
    for _, fn in MIGRATIONS:  # each migration is safe to apply again by hand
        fn(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"articles", "alerts", "runs", "seen_urls", "shingles", "articles_fts"} <= set(
        db.table_names()
    )


def test_full_text_search_folds_accents(tmp_path: Path) -> None:
    db = open_db(tmp_path / "nw.db")
    table(db, "articles").insert(
        {
            "url": "https://a.example/x",
            "url_key": "a.example/x",
            "source": "a",
            "title": "Coopération militaire",
            "text": "Les Forces armées royales et Tsahal.",
            "fetched_at": "2026-01-01T00:00:00+00:00",
        }
    )
    hits = list(table(db, "articles").search("cooperation"))
    assert [h["title"] for h in hits] == ["Coopération militaire"]


def test_unwritable_database_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        open_db(blocker / "nw.db")


def test_an_overlapping_pass_is_refused_and_the_lock_is_released(tmp_path: Path) -> None:
    store = tmp_path / "nw.db"
    refused = pytest.raises(PassRunning, match=r"another newswatch pass is running .* \(pid \d+")
    with pass_lock(store), refused, pass_lock(store):
        pass
    with pass_lock(store):  # released when the holder is done
        pass
