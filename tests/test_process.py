"""process_page on a real SQLite file: what is stored, what is alerted, what is remembered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.models import Page, PageHints
from pipelines.process import ProcessOptions, process_page
from pipelines.seeds import import_seeds
from pipelines.store import Store, open_store
from pipelines.topics import default_topics
from pipelines.urls import url_key
from samples.localserver import SITES_DIR

RELEVANT = (
    SITES_DIR / "bladi" / "maroc-commande-deuxieme-batterie-barak-mx,104672.html"
).read_bytes()
SECTION = (SITES_DIR / "bladi" / "maroc.html").read_bytes()
URL = "https://www.bladi.example/maroc-commande-deuxieme-batterie-barak-mx,104672.html"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "nw.db") as opened:
        import_seeds(opened, default_topics())
        yield opened


def options(**kw: object) -> ProcessOptions:
    return ProcessOptions(topics=default_topics(), **kw)  # type: ignore[arg-type]


def alerts(store: Store) -> int:
    return int(store.db.execute("SELECT count(*) FROM alerts").fetchone()[0])


def test_relevant_new_article_queues_one_alert(store: Store) -> None:
    outcome = process_page(
        store, Page(url=URL, final_url=URL, body=RELEVANT, source="b"), options()
    )
    assert (outcome.kind, outcome.relevant, outcome.alerts) == ("new", True, 1)
    assert alerts(store) == 1


def test_old_relevant_article_is_stored_but_not_alerted(store: Store) -> None:
    # The sample page says it was published on 2026-11-18; with max_age_days = 1 that is old.
    page = Page(url=URL, final_url=URL, body=RELEVANT, source="b")
    outcome = process_page(store, page, options(max_age_days=1))
    assert outcome.relevant and outcome.alerts == 0
    assert alerts(store) == 0


def test_baseline_stores_and_alerts_nothing(store: Store) -> None:
    page = Page(url=URL, final_url=URL, body=RELEVANT, source="b")
    assert process_page(store, page, options(baseline=True)).alerts == 0
    assert store.db.execute("SELECT relevant FROM articles WHERE url = ?", [URL]).fetchone()[0] == 1


def test_same_article_with_changed_text_is_an_update_without_a_second_alert(
    store: Store,
) -> None:
    process_page(store, Page(url=URL, final_url=URL, body=RELEVANT, source="b"), options())
    update = "<p>Mise à jour : le contrat a été confirmé jeudi par le ministère.</p></article>"
    changed = RELEVANT.replace(b"</article>", update.encode(), 1)
    # Reached again through a redirect from a new short link.
    page = Page(url="https://bladi.example/s/abc", final_url=URL, body=changed, source="b")
    outcome = process_page(store, page, options())
    assert outcome.kind == "updated"
    assert alerts(store) == 1
    assert "confirmé jeudi" in store.db.execute("SELECT text FROM articles").fetchall()[-1][0]
    assert "bladi.example/s/abc" in store.known_url_keys()


def test_an_edit_that_makes_an_article_relevant_raises_its_first_alert_once(
    store: Store,
) -> None:
    # The same page before the defence paragraphs were written: a short item on the visit.
    start, end = RELEVANT.index(b"<article"), RELEVANT.index(b"</article>")
    words = " ".join(["Le ministre a visité la foire agricole de Meknès samedi."] * 8)
    before = RELEVANT[:start] + f"<article><p>{words}</p>".encode() + RELEVANT[end:]
    headline = "Le Maroc commande une deuxième batterie du système antiaérien israélien Barak MX"
    before = before.replace(headline.encode(), "Le ministre à la foire de Meknès".encode())
    page = Page(url=URL, final_url=URL, body=before, source="b")
    first = process_page(store, page, options())
    assert (first.kind, first.relevant, alerts(store)) == ("new", False, 0)

    edited = process_page(store, Page(url=URL, final_url=URL, body=RELEVANT, source="b"), options())
    assert (edited.kind, edited.relevant, edited.alerts, alerts(store)) == ("updated", True, 1, 1)

    again = RELEVANT.replace(b"</article>", b"<p>Mise a jour : contrat confirme.</p></article>", 1)
    last = process_page(store, Page(url=URL, final_url=URL, body=again, source="b"), options())
    assert (last.kind, last.alerts, alerts(store)) == ("updated", 0, 1)


def test_an_article_stored_by_a_baseline_pass_is_not_alerted_when_edited(
    store: Store,
) -> None:
    page = Page(url=URL, final_url=URL, body=RELEVANT, source="b")
    process_page(store, page, options(baseline=True))
    changed = RELEVANT.replace(
        b"</article>", b"<p>Mise a jour : contrat confirme.</p></article>", 1
    )
    outcome = process_page(store, Page(url=URL, final_url=URL, body=changed, source="b"), options())
    assert (outcome.kind, outcome.alerts, alerts(store)) == ("updated", 0, 0)


OTHER = (SITES_DIR / "bladna" / "marokko-israel-akkoord-cyberdefensie,38450.html").read_bytes()


def test_a_canonical_link_is_believed_only_for_the_articles_own_text(
    store: Store,
) -> None:
    process_page(store, Page(url=URL, final_url=URL, body=RELEVANT, source="b"), options())
    (before,) = store.db.execute("SELECT id, text FROM articles WHERE url = ?", [URL]).fetchall()

    # The print view of the same story names it as canonical: the same article.
    twin = URL.replace(".html", ".html?print=1")
    page = Page(url=twin, final_url=twin, body=RELEVANT, source="b", canonical_url=URL)
    assert process_page(store, page, options()).kind == "unchanged"
    assert url_key(twin) in store.known_url_keys()

    # Another story whose CMS points its canonical at the first one: judged on its own.
    other = URL.replace(".html", "-2.html")
    page = Page(url=other, final_url=other, body=OTHER, source="b", canonical_url=URL)
    outcome = process_page(store, page, options())
    assert outcome.kind == "new" and outcome.article_id != before[0]
    assert (
        store.db.execute("SELECT text FROM articles WHERE id = ?", [before[0]]).fetchone()[0]
        == (before[1])
    )


def test_a_page_that_is_not_an_article_is_remembered_not_stored(
    store: Store,
) -> None:
    section = "https://bladi.example/maroc.html"
    outcome = process_page(
        store, Page(url=section, final_url=section, body=SECTION, source="b"), options()
    )
    assert outcome.kind == "not_article"
    assert store.db.execute("SELECT count(*) FROM articles WHERE source = 'b'").fetchone()[0] == 0
    assert "bladi.example/maroc.html" in store.known_url_keys()


def test_a_gone_page_is_not_asked_again_before_a_day(store: Store) -> None:
    gone = "https://bladi.example/retire,1.html"
    page = Page(url=gone, final_url=gone, body=b"", source="b", status=404)
    assert process_page(store, page, options()).kind == "gone"
    assert "bladi.example/retire,1.html" in store.known_url_keys()
    store.db.execute("UPDATE seen_urls SET last_seen = '2000-01-01T00:00:00+00:00'")
    assert "bladi.example/retire,1.html" not in store.known_url_keys()  # due again
    store.db.execute("UPDATE seen_urls SET fails = 3")
    assert "bladi.example/retire,1.html" in store.known_url_keys()  # given up


UNDATED = """<html><head><title>x</title></head><body><nav><a href="/">Accueil</a></nav>
<article><p>Les Forces armées royales ont reçu les premiers drones de surveillance fabriqués
près de Benslimane par une coentreprise entre un industriel marocain et Elbit Systems, selon
un communiqué publié par l'état-major, qui ne précise ni le nombre d'appareils ni le prix.</p>
<p>Le programme, lancé après l'accord de défense signé par Israël et le Maroc, prévoit un
transfert de technologie, la formation de techniciens et une maintenance assurée localement
pendant toute la durée de vie des appareils, indique la même source officielle.</p>
</article></body></html>"""


def test_feed_hints_fill_what_the_page_does_not_say(store: Store) -> None:
    hints = PageHints(
        feed_title="Drones : premières livraisons", feed_published="2026-11-17T08:00:00+00:00"
    )
    page = Page(url=URL, final_url=URL, body=UNDATED.encode(), source="b", hints=hints)
    assert process_page(store, page, options()).kind == "new"
    row = store.db.execute(
        "SELECT published, date_source, title FROM articles WHERE url = ?", [URL]
    ).fetchone()
    assert row[0].startswith("2026-11-17") and row[1] == "feed"


SEED_COPY = (
    SITES_DIR / "bladi" / "defense-rabat-tel-aviv-elargir-cooperation-militaire,104101.html"
).read_bytes()
SEED_COPY_URL = (
    "https://www.bladi.example/defense-rabat-tel-aviv-elargir-cooperation-militaire,104101.html"
)


def test_a_republished_seed_is_stored_as_its_duplicate_without_an_alert(
    store: Store,
) -> None:
    page = Page(url=SEED_COPY_URL, final_url=SEED_COPY_URL, body=SEED_COPY, source="b")
    outcome = process_page(store, page, options())
    seed = store.db.execute(
        "SELECT id FROM articles WHERE url = 'seed:001_62e89c347e542044.txt'"
    ).fetchone()[0]
    assert (outcome.kind, outcome.duplicate_of, outcome.alerts) == ("duplicate", seed, 0)
    row = store.db.execute(
        "SELECT duplicate_of, overlap FROM articles WHERE url_key = ?", [url_key(SEED_COPY_URL)]
    ).fetchone()
    assert row[0] == seed and 0.6 <= row[1] <= 1.0
    assert alerts(store) == 0
    # A duplicate is not indexed: a later copy points to the seed, not to this copy.
    assert (
        store.db.execute(
            "SELECT count(*) FROM shingles WHERE article_id = ?", [outcome.article_id]
        ).fetchone()[0]
        == 0
    )


def test_the_same_article_under_tracking_parameters_is_known_before_fetching(
    store: Store,
) -> None:
    process_page(store, Page(url=URL, final_url=URL, body=RELEVANT, source="b"), options())
    tracked = URL.replace("https://www.", "http://") + "?utm_source=rss&utm_medium=feed#top"
    assert url_key(tracked) in store.known_url_keys()
    # Fetched all the same (say, through a redirect that added them): the same article.
    page = Page(url=tracked, final_url=tracked, body=RELEVANT, source="b")
    assert process_page(store, page, options()).kind == "unchanged"
    assert store.db.execute("SELECT count(*) FROM articles WHERE source = 'b'").fetchone()[0] == 1
    assert alerts(store) == 1
