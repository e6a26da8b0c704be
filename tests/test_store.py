"""The store's operations, on both backends where they are the dataset's contract
(``open_backend_store``: SQLite and PostgreSQL); the tests that read the SQLite file's own
internals (PRAGMAs, sqlite_master, the FTS5 table, the lock file) say "SQLite only"."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from pipelines.store import (
    MIGRATIONS,
    Store,
    StoreError,
    migrate,
    open_db,
    open_store,
    table,
    transaction,
)
from pipelines.store.lock import PassRunning, pass_lock

pytest_plugins = ["services.postgres"]  # open_backend_store: SQLite and PostgreSQL


def test_migrations_apply_once_and_are_safe_twice(tmp_path: Path) -> None:
    # SQLite only (PRAGMAs, sqlite-utils); PostgreSQL: tests/test_store_postgres.py
    db = open_db(tmp_path / "nw.db")
    assert {r["name"] for r in table(db, "_migrations").rows} == {n for n, _ in MIGRATIONS}
    assert migrate(db) == []
    for _, fn in MIGRATIONS:  # each migration is safe to apply again by hand
        fn(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"articles", "alerts", "runs", "seen_urls", "shingles", "articles_fts"} <= set(
        db.table_names()
    )


def test_validators_are_kept_per_source(open_backend_store: Callable[[], Store]) -> None:
    store = open_backend_store()
    feed = "http://127.0.0.1:9/feed.xml"
    store.save_validators("a", {feed: ('"v1"', "", '["x"]')})
    store.save_validators("b", {feed: ('"v2"', "Mon, 02 Mar 2026 10:00:00 GMT", "")})
    store.save_validators("a", {feed: ('"v3"', "", '["y"]')})
    assert store.load_validators("a") == {feed: ('"v3"', "", '["y"]')}
    assert store.load_validators("b") == {feed: ('"v2"', "Mon, 02 Mar 2026 10:00:00 GMT", "")}
    assert store.load_validators("c") == {}
    store.close()


def test_validators_are_kept_per_source_and_older_rows_survive_the_migration(
    tmp_path: Path,
) -> None:
    # SQLite only: builds a file as an older version left it
    conn = sqlite3.connect(tmp_path / "nw.db", isolation_level=None)
    old = sqlite_utils.Database(conn)
    table(old, "_migrations").create({"name": str, "applied_at": str}, pk="name")
    for name, fn in MIGRATIONS[: [n for n, _ in MIGRATIONS].index("m006_validators_per_source")]:
        with transaction(old):
            fn(old)
            table(old, "_migrations").insert({"name": name, "applied_at": "2026-01-01"})
    feed = "http://127.0.0.1:9/feed.xml"
    Store(old, tmp_path / "nw.db").save_validators("a", {feed: ('"v1"', "", '["x"]')})
    conn.close()

    store = open_store(tmp_path / "nw.db")
    assert table(store.db, "http_validators").pks == ["source", "url"]
    assert store.load_validators("a") == {feed: ('"v1"', "", '["x"]')}
    # Two sources sharing one feed keep their own validators and remembered links.
    store.save_validators("b", {feed: ('"v2"', "Mon, 02 Mar 2026 10:00:00 GMT", "")})
    store.save_validators("a", {feed: ('"v3"', "", '["y"]')})
    assert store.load_validators("a") == {feed: ('"v3"', "", '["y"]')}
    assert store.load_validators("b") == {feed: ('"v2"', "Mon, 02 Mar 2026 10:00:00 GMT", "")}
    assert store.db.execute("SELECT count(*) FROM http_validators").fetchone()[0] == 2


def test_full_text_search_folds_accents(open_backend_store: Callable[[], Store]) -> None:
    store = open_backend_store()
    base = {"source": "a", "fetched_at": "2026-01-01T00:00:00+00:00"}
    first = store.insert_article(
        base
        | {
            "url": "https://a.example/x",
            "url_key": "a.example/x",
            "title": "Coopération militaire",
            "text": "Les Forces armées royales et Tsahal.",
        }
    )
    other = store.insert_article(
        base | {"url": "https://a.example/y", "url_key": "a.example/y", "text": "Autre chose."}
    )
    assert store.search_articles("cooperation") == [first]
    assert store.search_articles("armees royales") == [first]
    assert store.search_articles("tsahal") == [first]
    # Changed words are found, and the old ones no longer.
    store.update_article(other, {"text": "Une coopération nouvelle."})
    assert sorted(store.search_articles("cooperation")) == [first, other]
    store.update_article(first, {"title": "Exercices", "text": "Manoeuvres."})
    assert store.search_articles("cooperation") == [other]
    store.close()


def test_full_text_search_is_the_fts5_table_on_sqlite(tmp_path: Path) -> None:
    # SQLite only: the FTS5 table that sqlite-utils and Datasette search
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
    # SQLite only (PostgreSQL's errors: tests/test_store_postgres.py)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        open_db(blocker / "nw.db")


def test_an_overlapping_pass_is_refused_and_the_lock_is_released(tmp_path: Path) -> None:
    # SQLite only: the lock file (PostgreSQL's advisory lock: tests/test_store_postgres.py)
    store = tmp_path / "nw.db"
    refused = pytest.raises(PassRunning, match=r"another newswatch pass is running .* \(pid \d+")
    with pass_lock(store), refused, pass_lock(store):
        pass
    with pass_lock(store):  # released when the holder is done
        pass


def test_rows_hashed_before_split_words_were_joined_are_rehashed(tmp_path: Path) -> None:
    from pipelines.dedup import content_hash, shingle_hashes

    # SQLite only: replays a migration on the file
    path = tmp_path / "nw.db"
    store = open_store(path)
    db = store.db
    text = " ".join(f"La coopé\u00adration militaire numéro {i} avance vite." for i in range(12))
    article_id = store.insert_article(
        {
            "url": "https://s.example/a",
            "url_key": "s.example/a",
            "source": "s",
            "text": text,
            "fetched_at": "2026-11-01T00:00:00+00:00",
            "content_hash": "stale",
        },
    )
    db.execute("INSERT INTO shingles (hash, article_id) VALUES (1, ?)", [article_id])
    db.execute("DELETE FROM _migrations WHERE name = 'm008_rehash_for_split_words'")
    db.close()

    db = open_db(path)  # applies it again, as on a database from before
    row = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
    assert row[0] == content_hash(text)
    stored = {
        r[0] for r in db.execute("SELECT hash FROM shingles WHERE article_id = ?", [article_id])
    }
    assert stored == shingle_hashes(text)
    db.close()


def test_export_leaves_out_seeds_and_unmatched_articles_when_asked(
    open_backend_store: Callable[[], Store],
) -> None:
    from pipelines.store.queries import EXPORT_COLUMNS, ArticleFilter

    store = open_backend_store()
    base = {"source": "s", "text": "t", "fetched_at": "2026-11-01T00:00:00+00:00"}
    for key, source, relevant in (("seed:a", "seed", 1), ("s/1", "s", 0), ("s/2", "s", 1)):
        store.insert_article(
            base | {"url": key, "url_key": key, "source": source, "relevant": relevant}
        )
    assert [r["url"] for r in store.export_articles()] == ["s/1", "s/2"]
    assert [r["url"] for r in store.export_articles(relevant_only=True)] == ["s/2"]
    rows = store.export_articles(with_seeds=True)
    assert [r["url"] for r in rows] == ["seed:a", "s/1", "s/2"]
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [r["relevant"] for r in rows] == [1, 0, 1]
    matched = '[{"topic": "defence", "score": 2.5}]'
    store.update_article(rows[2]["id"], {"topics": matched, "published": "2026-10-30"})
    chosen = ArticleFilter(topics=("defence",), until="2026-10-31")
    assert [r["url"] for r in store.iter_articles(chosen, ["url"])] == ["s/2"]
    assert list(store.iter_articles(ArticleFilter(topics=("other",)), ["url"])) == []
    assert "story_id" in store.export_columns()
    store.close()


def test_probing_a_database_neither_creates_nor_migrates_it(tmp_path: Path) -> None:
    # SQLite only: newswatch doctor's look at the file
    from pipelines.store import probe_database

    with pytest.raises(StoreError):
        probe_database(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()
    open_store(tmp_path / "nw.db").close()
    assert probe_database(tmp_path / "nw.db") == {n for n, _ in MIGRATIONS}
