"""The dataset as other tools read it: views, readable seed titles, Datasette metadata."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from dataset_builder import ARTICLES, RELEVANT_DAYS, make_dataset

from pipelines.datasette import HIDDEN, build_metadata, columns, parse_columns
from pipelines.seeds import seed_files, seed_title
from pipelines.store import migrate, open_db, open_store
from pipelines.store.schema import VIEWS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_views_give_relevant_items_copies_and_activity(dataset: Path) -> None:
    db = dataset.parent / "nw.db"
    relevant = rows(db, "select day, source, lang, topic_names from relevant_articles order by id")
    assert relevant == [
        ("2026-11-18", "bladi", "fr", "morocco-israel-defence"),
        ("2026-11-20", "bladna", "nl", "morocco-israel-defence"),
        ("2026-11-16", "trends", "en", "morocco-israel-defence"),
    ]
    copies = rows(db, "select source, original_source, copies_seed, overlap from copies")
    assert copies == [("bladi", "seed", 1, 0.97)]
    activity = rows(
        db,
        "select source, day, passes, requests, errors, articles, copies, relevant"
        " from source_activity order by source, day",
    )
    today = rows(db, "select substr(max(started_at), 1, 10) from runs")[0][0]
    assert today > "2026-11-21"
    assert activity == [
        ("bladi", "2026-11-21", 0, 0, 0, 2, 1, 1),  # stored that day
        ("bladi", today, 2, 10, 2, 0, 0, 0),  # read by two passes
        ("bladna", "2026-11-21", 0, 0, 0, 1, 0, 1),
        ("trends", "2026-11-21", 0, 0, 0, 2, 0, 1),
    ]


def test_views_survive_a_later_migration_that_rebuilds_articles(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.store import schema

    def m999_rebuild_articles(db: object) -> None:
        import sqlite_utils

        assert isinstance(db, sqlite_utils.Database)
        schema.table(db, "articles").transform(types={"overlap": float})

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("m999", m999_rebuild_articles)])
    db = open_db(dataset.parent / "nw.db")  # applies m999: drops, rebuilds, recreates views
    assert set(VIEWS) <= set(db.view_names())
    assert db.execute("select count(*) from relevant_articles").fetchone()[0] == 3
    db.close()


def test_seed_rows_get_a_readable_title_at_import_and_by_migration(dataset: Path) -> None:
    db = dataset.parent / "nw.db"
    titles = [t for (t,) in rows(db, "select title from articles where source = 'seed'")]
    assert all(not t[0].isdigit() and len(t) <= 111 for t in titles), titles
    assert "Israel and Morocco sign bilateral defence deal" in titles
    assert "Marokko en Israël slaan de handen ineen" in titles[4]
    # A dataset stored before: the dateline title is replaced by m013.
    conn = sqlite3.connect(db)
    conn.execute("update articles set title = '18 december 2021 - 21:40 - Marokko' where id = 5")
    conn.execute("delete from _migrations where name = 'm013_views'")
    conn.commit()
    conn.close()
    open_store(db).close()
    assert rows(db, "select title from articles where id = 5")[0][0] == titles[4]


def test_seed_title_skips_datelines_breadcrumbs_and_cuts_long_sentences() -> None:
    dated = "18 december 2021 - 21:40 - Marokko\nMarokko bouwt twee fabrieken. Meer volgt."
    assert seed_title(dated, "f") == "Marokko bouwt twee fabrieken"
    crumbs = "Home Africa Israel and Morocco sign a deal\n\nIsrael and Morocco sign a deal\n\nx"
    assert seed_title(crumbs, "f") == "Israel and Morocco sign a deal"
    long = "Word " * 60 + "end."
    assert seed_title(long, "f").endswith("…") and len(seed_title(long, "f")) <= 111
    assert len(seed_files()) == 5


def test_metadata_hides_internal_tables_and_describes_columns(dataset: Path) -> None:
    with open_store(dataset.parent / "nw.db") as store:
        tables = store.table_names()
    meta = build_metadata("nw", tables)
    described = meta["databases"]["nw"]["tables"]
    for name in ("shingles", "_migrations", "seen_urls", "http_validators", "articles_fts"):
        assert described[name] == {"hidden": True}, name
    hidden = {n for n, t in described.items() if t.get("hidden")}
    assert set(HIDDEN) & tables <= hidden
    assert {"articles", "alerts", "runs", "relevant_articles", "copies"}.isdisjoint(hidden)
    assert {t for t in tables if t.startswith("story_")} <= hidden  # index tables
    articles = described["articles"]
    assert articles["sort_desc"] == "published" and articles["label_column"] == "title"
    assert "relevant" in articles["facets"]
    assert articles["columns"]["duplicate_of"].startswith("id of the stored original")
    queries = set(meta["databases"]["nw"]["queries"])
    assert queries - {"stories"} == {"new_relevant_this_week", "copies_of_seeds", "source_passes"}
    assert ("stories" in queries) == ("stories" in tables)
    assert "stories" not in build_metadata("nw", tables - {"stories"})["databases"]["nw"]["queries"]
    assert "stories" in build_metadata("nw", {*tables, "stories"})["databases"]["nw"]["queries"]


def test_column_descriptions_are_the_docs_own(dataset: Path) -> None:
    """columns.json is docs/dataset.md's tables: `python -m pipelines.datasette` rewrites it."""
    assert columns() == parse_columns(DOCS.read_text(encoding="utf-8")), (
        "docs/dataset.md changed: python -m pipelines.datasette docs/dataset.md"
    )
    with open_store(dataset.parent / "nw.db") as store:
        tables = store.table_names()
    db = sqlite3.connect(dataset.parent / "nw.db")
    for table, described in columns().items():
        if table in tables:
            have = {r[1] for r in db.execute(f"pragma table_info({table})")}
            assert set(described) <= have, (table, set(described) - have)
    db.close()


def test_canned_queries_run(dataset: Path) -> None:
    meta = build_metadata("nw", set())
    conn = sqlite3.connect(dataset.parent / "nw.db")
    for query in meta["databases"]["nw"]["queries"].values():
        conn.execute(query["sql"], {"source": "bladi"}).fetchall()
    found = conn.execute(meta["databases"]["nw"]["queries"]["copies_of_seeds"]["sql"]).fetchall()
    assert len(found) == 1
    passes = conn.execute(
        meta["databases"]["nw"]["queries"]["source_passes"]["sql"], {"source": "bladi"}
    ).fetchall()
    assert len(passes) == 2
    conn.close()
    assert json.dumps(meta)  # serialisable for `datasette -m`
    assert len(ARTICLES) == 5 and len(RELEVANT_DAYS) == 3
    assert migrate  # re-exported for later migrations
