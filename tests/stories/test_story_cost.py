"""What keeps assigning an article cheap changes nothing it decides: the early let-go of a
pair that cannot reach the threshold, articles in another language read without their
words, the story index ordered by recency, and the full-text index left alone when an
article only changes story."""

from __future__ import annotations

from itertools import product
from pathlib import Path

from story_helpers import labelled_store, mini_rows

from pipelines.store import Store, open_store
from pipelines.store.stories import Unassigned
from pipelines.stories import cluster_new
from pipelines.stories.engine import Clusterer
from pipelines.stories.features import Features
from pipelines.stories.scoring import compare, measure, weighted

ROWS = mini_rows()


def features(store: Store) -> list[Features]:
    clusterer = Clusterer(store)
    found = []
    for row in ROWS.values():
        published = row.get("published")
        art = Unassigned(0, "t", row["lang"], row["title"], published, "", None, True, [])
        found.append(clusterer.features(art, row["text"]))
    return found


def test_a_pair_let_go_early_could_not_reach_the_floor(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        found = features(store)
        gazetteer = Clusterer(store).gazetteer
    idf: dict[str, float] = {}
    let_go = 0
    for a, b in product(found, found):
        vector = weighted(a, idf, 3.0)
        for reactions in ((False, False), (True, False)):
            link = compare(a, b, gazetteer, idf, 3.0, reactions, vector)
            exact = measure(a, b, gazetteer, idf, 3.0, reactions, vector)
            assert exact == (link.score, link.specific, link.text_similarity, link.days_apart)
            for floor in (-5.0, 0.0, 4.0, 9.0):
                early = measure(a, b, gazetteer, idf, 3.0, reactions, vector, floor)
                if early is None:
                    let_go += 1
                    assert link.score < floor
                else:
                    assert early == exact
    assert let_go  # the set has pairs far apart


def test_members_in_another_language_come_without_their_words(tmp_path: Path) -> None:
    with labelled_store(tmp_path / "s.db") as labelled:
        for label in ("m01-a01", "m01-a02", "m01-a03"):  # fr, ar, he: one story
            labelled.add(ROWS[label])
        cluster_new(labelled.store)
        story = labelled.story("m01-a01")
        assert story is not None
        members = labelled.store.story_members([story], 8, "fr")
        by_lang = {(f := Features.from_json(raw)).lang: f for _, _, raw in members}
        assert set(by_lang) == {"fr", "ar", "he"}
        assert by_lang["fr"].terms and not by_lang["ar"].terms and not by_lang["he"].terms
        assert by_lang["ar"].entities  # all the rest is there


def test_the_story_index_is_read_latest_first_and_started_by_the_window(
    tmp_path: Path,
) -> None:
    with open_store(tmp_path / "s.db") as store, store.transaction():
        stories = [store.new_story(f"2024-01-{d:02d}T12:00:00+00:00") for d in (1, 5, 9, 20)]
        for story, day in zip(stories, (3, 8, 9, 25), strict=True):
            seen = f"2024-01-{day:02d}T12:00:00+00:00"
            store.db.execute(
                "INSERT INTO story_keys (key, story_id, last_seen) VALUES ('e:x', ?, ?)",
                [story, seen],
            )
        window = ("2024-01-02T00:00:00+00:00", "2024-01-10T00:00:00+00:00", "2024-02-01")
        # the two latest under the key: the 25th (started after the window: dropped), the 9th
        assert store.story_candidates({"e:x": 2.0}, window, 6, 2) == [stories[2]]
        assert store.story_candidates({"e:x": 2.0}, window, 6, 3) == [stories[2], stories[1]]
        plan = " ".join(
            str(r[3])
            for r in store.db.execute(
                "EXPLAIN QUERY PLAN SELECT story_id FROM story_keys WHERE key = ?"
                " AND last_seen >= ? AND last_seen <= ? ORDER BY last_seen DESC,"
                " story_id DESC LIMIT 3",
                ["e:x", "a", "b"],
            )
        )
        assert "PRIMARY KEY" in plan and "TEMP B-TREE" not in plan


def test_changing_an_article_s_story_leaves_its_text_index_alone(tmp_path: Path) -> None:
    with labelled_store(tmp_path / "s.db") as labelled:
        article = labelled.add(ROWS["m01-a01"])
        store = labelled.store
        cluster_new(store)
        with store.transaction():
            store.db.execute("UPDATE articles SET title = 'Zanzibar' WHERE id = ?", [article])
        found = store.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'zanzibar'"
        ).fetchall()
        assert found == [(article,)]  # a new title is indexed again
        trigger = store.db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'articles_au'"
        ).fetchone()[0]
        assert 'UPDATE OF "title", "text"' in trigger
