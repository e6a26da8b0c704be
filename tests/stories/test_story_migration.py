"""m010_stories on a dataset written before stories existed: the tables appear, what was
stored is clustered (leads earliest-published), and nothing is queued for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlite_utils
from story_helpers import mini_rows

from pipelines.clock import utcnow
from pipelines.store import MIGRATIONS, open_store, table, transaction

ROWS = mini_rows()


def old_dataset(path: Path) -> sqlite_utils.Database:
    """A database with every migration before m010 applied, as an older newswatch left it."""
    db = sqlite_utils.Database(path)
    table(db, "_migrations").create({"name": str, "applied_at": str}, pk="name")
    for name, fn in sorted(MIGRATIONS):
        if name >= "m010":
            break
        with transaction(db):
            fn(db)
            table(db, "_migrations").insert({"name": name, "applied_at": utcnow()})
    return db


def test_the_migration_clusters_what_is_already_stored(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = old_dataset(path)
    labels = ["m01-a03", "m01-a01", "m01-a02", "m02-a01", "m02-a02"]  # fetch order
    for n, label in enumerate(labels):
        row = ROWS[label]
        table(db, "articles").insert(
            {
                "url": f"https://{row['source']}/{n}",
                "url_key": f"{row['source']}/{n}",
                "source": row["source"],
                "lang": row["lang"],
                "title": row["title"],
                "text": row["text"],
                "published": row["published"],
                "fetched_at": utcnow(),
                "relevant": 1,
                "topics": json.dumps([{"topic": "t", "score": 1.0}]),
            }
        )
        table(db, "alerts").insert(
            {"article_id": n + 1, "topic": "t", "created_at": utcnow(), "status": "sent"}
        )
    db.close()
    with open_store(path) as store:
        applied = {r["name"] for r in table(store.db, "_migrations").rows}
        assert "m010_stories" in applied
        stories = [store.article_story(n) for n in range(1, 6)]
        assert stories[0] == stories[1] == stories[2] != stories[3] == stories[4]
        story = store.story(stories[0] or 0)
        assert story is not None and story["lead_article_id"] == 2  # m01-a01: published first
        assert store.unsettled_links() == []  # nothing owed for what was stored before
        assert len(store.alert_rows()) == 5


def test_a_new_dataset_is_created_without_loading_the_stories_engine(tmp_path: Path) -> None:
    """Nothing is stored yet, so nothing to cluster: a first pass does not pay for the
    engine's import and gazetteer before its first request."""
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pipelines.store import open_store\n"
        f"store = open_store(Path({str(tmp_path / 'new.db')!r}))\n"
        "print('pipelines.stories.engine' in sys.modules)\n"
        "print(sorted(store.db.table_names()))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    engine_loaded, tables = out.stdout.splitlines()
    assert engine_loaded == "False"
    assert "stories" in tables and "story_links" in tables
