"""Deduplication semantics from DESIGN.md, each case against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from pipelines.dedup import content_hash, find_duplicate, index_document
from pipelines.seeds import import_seeds, seed_files
from pipelines.store import open_db, table

SEED_FR = "001_62e89c347e542044.txt"


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_db(tmp_path / "nw.db")
    import_seeds(database, [])
    return database


def seed_id(db: sqlite_utils.Database, name: str) -> int:
    return int(db.execute("SELECT id FROM articles WHERE url = ?", [f"seed:{name}"]).fetchone()[0])


def seed_body(name: str) -> str:
    """The article paragraphs of a seed file: no title line, no teaser lists after it."""
    text = next(f for f in seed_files() if f.name == name).read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "\n".join(paragraphs[2:8])


def test_seed_import_is_idempotent(tmp_path: Path) -> None:
    database = open_db(tmp_path / "nw.db")
    assert import_seeds(database, []) == 5
    assert import_seeds(database, []) == 0
    rows = list(table(database, "articles").rows_where("source = 'seed'"))
    assert sorted(r["url"] for r in rows) == sorted(f"seed:{f.name}" for f in seed_files())


def test_copy_with_other_boilerplate_and_a_sentence_cut_is_a_duplicate(
    db: sqlite_utils.Database,
) -> None:
    body = seed_body(SEED_FR).split("\n")
    copy = "\n".join(["Partagez sur Facebook", *body[:-2], body[-1], "Newsletter : inscrivez-vous"])
    dup = find_duplicate(db, copy)
    assert dup is not None and dup.article_id == seed_id(db, SEED_FR)
    assert dup.overlap >= 0.8


def test_added_sentence_is_still_a_duplicate(db: sqlite_utils.Database) -> None:
    copy = seed_body(SEED_FR) + "\nLe ministère n'a pas souhaité commenter ces informations hier."
    dup = find_duplicate(db, copy)
    assert dup is not None and dup.article_id == seed_id(db, SEED_FR)


def test_one_shared_background_sentence_is_not_a_duplicate(db: sqlite_utils.Database) -> None:
    text = (
        "Le Maroc a reçu jeudi une première livraison de blindés destinés aux Forces armées"
        " royales, selon un communiqué publié à Rabat. Les véhicules, assemblés à Kénitra,"
        " doivent équiper deux régiments du sud du pays d'ici la fin de l'année prochaine."
        " Le programme prévoit une montée en cadence progressive et la formation de deux cents"
        " techniciens dans les ateliers de maintenance de l'armée. Les officiers interrogés"
        " évoquent un calendrier serré mais tenable. La normalisation en décembre 2020 des"
        " relations entre Israël et le Maroc, sous l'égide des États-Unis dans le cadre des"
        " accords d'Abraham, a ouvert de nouveaux partenariats industriels. Le coût total du"
        " programme n'a pas été rendu public par le ministère délégué chargé de la défense."
    )
    assert find_duplicate(db, text) is None


def test_article_whose_lead_is_a_seed_teaser_is_new(db: sqlite_utils.Database) -> None:
    teaser = (
        "Une coalition internationale dédiée à la cyberdéfense a été mise en place en Israël"
        " en marge du sommet international de la cyber-industrie Cybertech Global 2023 qui"
        " s'est tenu"
    )
    rest = " ".join(
        f"Le paragraphe {i} détaille les engagements de chaque pays membre, le calendrier des"
        f" exercices communs et les moyens consacrés à la protection des réseaux publics."
        for i in range(1, 9)
    )
    assert find_duplicate(db, teaser + " à Tel-Aviv. " + rest) is None


def test_same_story_in_another_language_is_new(db: sqlite_utils.Database) -> None:
    # The English seed tells the January 2023 meeting that the French seed 001 also tells.
    # Take the English seed out of the index: the French one must not claim its text.
    english_id = seed_id(db, "003_644d7ec9ad0a14b6.txt")
    english = table(db, "articles").get(english_id)["text"]
    db.execute("DELETE FROM shingles WHERE article_id = ?", [english_id])
    db.execute("UPDATE articles SET content_hash = 'x' WHERE id = ?", [english_id])
    assert find_duplicate(db, english) is None


def test_exact_copy_points_to_the_original(db: sqlite_utils.Database) -> None:
    text = seed_body(SEED_FR)
    first = int(
        table(db, "articles")
        .insert(
            {
                "url": "https://a.example/1",
                "url_key": "a.example/1",
                "source": "a",
                "text": text,
                "fetched_at": "2026-01-01T00:00:00+00:00",
                "content_hash": content_hash(text),
            }
        )
        .last_pk
    )
    index_document(db, first, text)
    dup = find_duplicate(db, "  " + text.replace("\n", "\n\n"))
    assert dup is not None and dup.exact and dup.article_id == first
