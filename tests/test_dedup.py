"""Deduplication semantics (docs/extraction.md, "Deduplication"), each case against a real
store: a SQLite file, and a PostgreSQL database (the ``store`` fixture runs on both)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipelines.dedup import (
    RULES,
    _hash,
    _hashes,
    content_hash,
    find_duplicate,
    index_document,
    normalize_words,
    shingle_hashes,
)
from pipelines.models import DedupRules
from pipelines.seeds import import_seeds, seed_files
from pipelines.store import Store, open_store, table

pytest_plugins = ["services.postgres"]  # open_backend_store: SQLite and PostgreSQL

SEED_FR = "001_62e89c347e542044.txt"


@pytest.fixture
def store(open_backend_store: Callable[[], Store]) -> Iterator[Store]:
    with open_backend_store() as opened:
        import_seeds(opened, [])
        yield opened


def seed_id(store: Store, name: str) -> int:
    row = store.db.execute("SELECT id FROM articles WHERE url = ?", [f"seed:{name}"]).fetchone()
    return int(row[0])


def seed_body(name: str) -> str:
    """The article paragraphs of a seed file: no title line, no teaser lists after it."""
    text = next(f for f in seed_files() if f.name == name).read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "\n".join(paragraphs[2:8])


def test_seed_import_is_idempotent(tmp_path: Path) -> None:
    database = open_store(tmp_path / "nw.db")
    assert import_seeds(database, []) == 5
    assert import_seeds(database, []) == 0
    rows = list(table(database.db, "articles").rows_where("source = 'seed'"))
    assert sorted(r["url"] for r in rows) == sorted(f"seed:{f.name}" for f in seed_files())


def test_copy_with_other_boilerplate_and_a_sentence_cut_is_a_duplicate(
    store: Store,
) -> None:
    body = seed_body(SEED_FR).split("\n")
    copy = "\n".join(["Partagez sur Facebook", *body[:-2], body[-1], "Newsletter : inscrivez-vous"])
    dup = find_duplicate(store, copy)
    assert dup is not None and dup.article_id == seed_id(store, SEED_FR)
    assert dup.overlap >= 0.8


def test_added_sentence_is_still_a_duplicate(store: Store) -> None:
    copy = seed_body(SEED_FR) + "\nLe ministère n'a pas souhaité commenter ces informations hier."
    dup = find_duplicate(store, copy)
    assert dup is not None and dup.article_id == seed_id(store, SEED_FR)


def test_one_shared_background_sentence_is_not_a_duplicate(store: Store) -> None:
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
    assert find_duplicate(store, text) is None


def test_article_whose_lead_is_a_seed_teaser_is_new(store: Store) -> None:
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
    assert find_duplicate(store, teaser + " à Tel-Aviv. " + rest) is None


def test_same_story_in_another_language_is_new(store: Store) -> None:
    # The English seed tells the January 2023 meeting that the French seed 001 also tells.
    # Take the English seed out of the index: the French one must not claim its text.
    english_id = seed_id(store, "003_644d7ec9ad0a14b6.txt")
    english = store.article_text(english_id) or ""
    store.db.execute("DELETE FROM shingles WHERE article_id = ?", [english_id])
    store.db.execute("UPDATE articles SET content_hash = 'x' WHERE id = ?", [english_id])
    assert find_duplicate(store, english) is None


def test_exact_copy_points_to_the_original(store: Store) -> None:
    text = seed_body(SEED_FR)
    first = store_original(store, text)
    dup = find_duplicate(store, "  " + text.replace("\n", "\n\n"))
    assert dup is not None and dup.exact and dup.article_id == first


# --- copies that are still copies -------------------------------------------------------

SEED_EN = "003_644d7ec9ad0a14b6.txt"
SEED_FR2 = "002_9fa98d75917ce04d.txt"

# Paragraphs that no stored document holds, in the seeds' languages.
NEW_FR = [
    "Selon une source proche du dossier, la signature officielle pourrait intervenir avant la"
    " fin du trimestre, après une dernière série de réunions techniques à Rabat.",
    "Les deux délégations n'ont fait aucune déclaration à la presse à l'issue de la rencontre,"
    " qui s'est tenue à huis clos dans une caserne de la capitale.",
    "Les observateurs notent que le calendrier a été accéléré depuis le printemps, sans que les"
    " autorités expliquent publiquement les raisons de ce changement de rythme.",
]
NEW_EN = [
    "A spokesman for the ministry declined to say when the first deliveries would take place,"
    " citing the confidentiality clauses that govern the contract between both parties.",
    "Regional analysts said the announcement fitted a pattern of closer ties that has been"
    " visible since the two governments exchanged liaison offices several years ago.",
    "Our correspondent in Rabat adds that parliament has not been asked to vote on the deal,"
    " which opposition members have criticised in recent weeks during budget debates.",
]


def assert_copy_of(store: Store, text: str, seed: str) -> float:
    dup = find_duplicate(store, text)
    assert dup is not None, "not recognised as a copy"
    assert dup.article_id == seed_id(store, seed)
    return dup.overlap


def test_copy_under_a_changed_title_is_a_duplicate(store: Store) -> None:
    copy = "Rabat et Tel-Aviv approfondissent leur partenariat militaire\n" + seed_body(SEED_FR)
    assert assert_copy_of(store, copy, SEED_FR) >= 0.9


def test_syndicated_copy_with_its_own_intro_and_outro_is_a_duplicate(
    store: Store,
) -> None:
    body = seed_body(SEED_FR2).split("\n")
    copy = "\n".join([NEW_FR[0], *body[1:], NEW_FR[1]])
    assert assert_copy_of(store, copy, SEED_FR2) >= RULES.threshold


def test_the_threshold_comes_from_the_rules(store: Store) -> None:
    """``[dedup] threshold`` decides: the same half copy is a copy at 0.4, not at 0.9."""
    words = seed_body(SEED_EN).split(" ")
    half = " ".join(words[: len(words) // 2]) + " " + " ".join(NEW_FR)
    found = find_duplicate(store, half, rules=DedupRules(threshold=0.4))
    assert found is not None and found.article_id == seed_id(store, SEED_EN)
    assert find_duplicate(store, half, rules=DedupRules(threshold=0.9)) is None


def test_copy_cut_to_sixty_percent_is_a_duplicate(store: Store) -> None:
    words = seed_body(SEED_EN).split(" ")
    assert assert_copy_of(store, " ".join(words[: len(words) * 6 // 10]), SEED_EN) >= 0.9


INTERLEAVED = [
    "Lire aussi : Le Maroc et Israël signent un accord sur les drones de surveillance",
    "Le général Belkheir El Farouk lors d'une cérémonie à Rabat. Photo : FAR",
    "À LIRE : Cyberdéfense, le Maroc recevra l'aide d'Israël",
    "Crédit photo : DR",
    "Voir aussi : la coopération militaire Maroc-Israël inquiète l'Algérie",
    "Publicité",
]


def test_lines_a_site_interleaves_do_not_lower_the_overlap(store: Store) -> None:
    """Captions, credits and "read also" links between the paragraphs of a copy: the copy
    stays about as close to its original as it is without them (the caption is new text)."""
    body = seed_body(SEED_FR2).split("\n")[1:]
    clean = assert_copy_of(store, "\n".join(body), SEED_FR2)
    interleaved = [line for i, paragraph in enumerate(body)
                   for line in (paragraph, INTERLEAVED[i % len(INTERLEAVED)])]  # fmt: skip
    assert assert_copy_of(store, "\n".join(interleaved), SEED_FR2) >= clean - 0.1


def test_copy_of_a_short_original_is_a_duplicate(store: Store) -> None:
    """An original of 60 words: a brief. A copy with another site's furniture is a copy."""
    brief = (
        "Le Maroc a réceptionné lundi à Benguérir un deuxième lot de drones de reconnaissance"
        " fabriqués par une entreprise israélienne, selon un communiqué des Forces armées royales"
        " qui ne précise ni le nombre d'appareils livrés ni le montant du contrat signé l'an"
        " dernier. Les appareils doivent rejoindre une escadrille basée dans le sud du pays avant"
        " la fin du mois, ajoute le communiqué."
    )
    original = store_original(store, brief)
    copy = "Partager sur Facebook\n" + brief + "\nAbonnez-vous à notre newsletter"
    dup = find_duplicate(store, copy)
    assert dup is not None and dup.article_id == original


def print_layout(text: str, every: int, joiner: str) -> str:
    """``text`` as a print edition sets it: every ``every``-th long word split at a line end.

    ``joiner`` is what the copy kept of the line break: nothing ("coopé-ration"), a space
    ("coopé- ration") or the line break itself.
    """
    words, seen = text.split(" "), 0
    for i, word in enumerate(words):
        if len(word) >= 7 and word.isalpha():
            seen += 1
            if seen % every == 0:
                words[i] = word[: len(word) // 2] + "-" + joiner + word[len(word) // 2 :]
    return " ".join(words)


@pytest.mark.parametrize("joiner", ["", " ", "\n"])
def test_print_edition_copy_with_split_words_is_a_duplicate(store: Store, joiner: str) -> None:
    """One long word in three split at a line end breaks about half of the shingles."""
    copy = print_layout(seed_body(SEED_FR2), 3, joiner)
    assert copy.count("-") >= seed_body(SEED_FR2).count("-") + 10
    assert assert_copy_of(store, copy, SEED_FR2) >= 0.9


def test_print_column_copy_with_a_line_per_printed_line_is_a_duplicate(
    store: Store,
) -> None:
    """A copy that kept the column's line breaks (``<br>`` tags): short lines, one sentence."""
    column = "\n".join(
        line
        for paragraph in seed_body(SEED_FR2).split("\n")
        for line in textwrap.wrap(paragraph, 40)
    )
    assert assert_copy_of(store, column, SEED_FR2) >= 0.9


def test_line_end_hyphens_join_only_a_split_word() -> None:
    assert normalize_words("la coopé- ration, la coopé-\n ration") == normalize_words(
        "la coopération, la coopération"
    )
    assert normalize_words("intelli\u00adgence") == ["intelligence"]
    # A dash between words, a capital after the space, a digit: words stay apart.
    for kept in ("Rabat - Tel-Aviv", "Maroc- Ecrit par", "modèle 2020- 2021", "pré- et post-"):
        assert len(normalize_words(kept)) == len(re.findall(r"\w+", kept)), kept


def test_compounds_of_a_new_text_are_not_joined(store: Store) -> None:
    """Only the words the closest document has whole are joined: a new text full of
    compounds ("état-major", "Tel-Aviv") stays new."""
    text = "\n".join(
        [
            "Le chef d'état-major a reçu à Tel-Aviv une délégation franco-marocaine"
            " venue discuter d'un projet socio-économique et d'un centre médico-social.",
            *NEW_FR,
        ]
    )
    assert find_duplicate(store, text) is None


# --- new articles that only borrow a little ---------------------------------------------


def test_one_shared_teaser_line_is_not_a_duplicate(store: Store) -> None:
    teaser = (
        "Plusieurs médias marocains et israéliens ont annoncé l’acquisition « imminente » par le"
        " Maroc des avions de combat américains F-35."
    )
    assert find_duplicate(store, "\n".join([NEW_FR[0], teaser, NEW_FR[1], NEW_FR[2]])) is None


def test_roundup_quoting_two_paragraphs_of_a_stored_article_is_new(
    store: Store,
) -> None:
    body = seed_body(SEED_EN).split("\n")
    roundup = "\n".join([*NEW_EN, body[3], body[4], *NEW_EN[::-1], *FRESH_EN])
    assert find_duplicate(store, roundup) is None


def test_a_short_new_article_sharing_one_sentence_is_new(store: Store) -> None:
    sentence = (
        "Alors qu’Israël et le Maroc entretiennent des relations militaires secrètes depuis des"
        " années, ils ont rétabli des relations officielles en 2020 dans le cadre des accords"
        " d’Abraham."
    )
    assert find_duplicate(store, "\n".join([NEW_FR[0], sentence, NEW_FR[2]])) is None


def test_phrasing_that_many_documents_share_is_no_evidence(store: Store) -> None:
    """Background paragraphs that 60 stored articles repeat do not make a copy of any of
    them, even when they are most of a new text."""
    background = (
        "Le Maroc et Israël ont normalisé leurs relations en décembre 2020 dans le cadre des"
        " accords d'Abraham, sous l'égide des États-Unis, qui ont reconnu en échange la"
        " souveraineté marocaine sur le Sahara occidental, et ont depuis signé plusieurs accords"
        " de coopération militaire, industrielle et sécuritaire.\n"
        "Depuis, les visites de responsables militaires se sont multipliées dans les deux sens,"
        " et plusieurs entreprises israéliennes du secteur de la défense ont annoncé des projets"
        " d'usines au Maroc, dont la fabrication de drones près de Benslimane, tandis que les"
        " deux armées organisent des exercices et des formations communes chaque année."
    )
    for i in range(RULES.max_document_frequency + 10):
        store_original(store, f"{FRESH_FR[i % len(FRESH_FR)]} Dépêche numéro {i}.\n{background}")
    text = "\n".join([NEW_FR[1], background, NEW_FR[2]])
    assert find_duplicate(store, text) is None
    # Each of the 60 holds most of the text; none is the one it copies.
    shared = len(shingle_hashes(background) & shingle_hashes(text)) / len(shingle_hashes(text))
    assert shared >= RULES.threshold


def store_original(store: Store, text: str) -> int:
    """Store and index a text the way process_page stores a new original."""
    n = store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
    article_id = store.insert_article(
        {
            "url": f"https://stored.example/{n}",
            "url_key": f"stored.example/{n}",
            "source": "stored",
            "text": text,
            "fetched_at": "2026-01-01T00:00:00+00:00",
            "content_hash": content_hash(text),
        },
    )
    index_document(store, article_id, text)
    return article_id


FRESH_EN = [
    "The weekly roundup also covers a naval exercise in the Atlantic, where frigates from four"
    " countries trained together on mine clearance and search and rescue for ten days.",
    "In Europe, several governments announced new spending plans for air defence, with orders"
    " for radars and interceptors that industry says will take years to fill completely.",
    "Elsewhere in Africa, a regional summit discussed border security and the financing of"
    " peacekeeping missions, without reaching agreement on who should pay for them.",
    "Finally, a report by a Swedish institute found that global arms transfers rose again last"
    " year, driven by demand in Europe and in Asia, while African imports fell slightly.",
]
FRESH_FR = [
    "Le port de Tanger Med a enregistré un nouveau record de conteneurs traités au troisième"
    " trimestre, porté par les lignes vers l'Europe du Nord.",
    "La campagne agricole s'annonce meilleure que prévu grâce aux pluies tombées en automne"
    " sur les plaines du Gharb et du Saïs.",
    "Un nouveau festival de musique andalouse ouvrira ses portes à Fès au printemps, avec des"
    " ensembles venus de toute la Méditerranée.",
]


def test_the_batched_shingle_hash_is_the_one_stored_hashes_were_made_with() -> None:
    """Stored shingles (seed corpus included) were hashed one 5-gram at a time: the
    batched hashing gives each gram the very same value, accents and all."""
    grams = ["la coopération militaire entre rabat", "x", "", "שיתוף פעולה ביטחוני בין המדינות"]
    grams += [" ".join(f"w{i + k}" for k in range(5)) for i in range(200)]
    assert _hashes(grams) == [_hash(gram) for gram in grams]
    assert _hashes([]) == []
