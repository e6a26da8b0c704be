"""Schema changes that make assigning an article to a story cheaper (after m010_stories).

- ``story_keys`` is ordered by (key, last_seen, story_id) itself, one row per key and story
  kept by a unique index on (story_id, key): a story's news moves one entry per key (not an
  entry and an index entry), and a key's latest stories are read straight off the table.
- ``articles_fts`` is kept in step when a title or a text changes, not at every update of
  an article (putting an article in a story wrote its whole text to the index again).
"""

from __future__ import annotations

import sqlite_utils

from pipelines.store.schema import migration


@migration
def m014_story_keys_by_recency(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE story_keys_next (key TEXT NOT NULL, story_id INTEGER NOT NULL,"
        " last_seen TEXT NOT NULL, PRIMARY KEY (key, last_seen, story_id)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO story_keys_next (key, story_id, last_seen)"
        " SELECT key, story_id, last_seen FROM story_keys"
    )
    db.execute("DROP TABLE story_keys")
    db.execute("ALTER TABLE story_keys_next RENAME TO story_keys")
    db.execute("CREATE UNIQUE INDEX story_keys_story ON story_keys(story_id, key)")


@migration
def m015_fts_on_text_only(db: sqlite_utils.Database) -> None:
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_au'"
    ).fetchone()
    if found is None or " UPDATE OF " in str(found[0]).upper():
        return  # no full-text index, or kept in step on title and text already
    sql = str(found[0])
    db.execute("DROP TRIGGER articles_au")
    db.execute(sql.replace("AFTER UPDATE ON", 'AFTER UPDATE OF "title", "text" ON', 1))
