"""`extract_article` end to end on handmade pages: what it keeps of an article, what it
returns for input that is no page at all, and that it is a pure function."""

from __future__ import annotations

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
from extract_pages import fixture, fixture_text

from pipelines.extract import extract_article
from pipelines.extract.decode import MAX_HTML_SIZE
from pipelines.models import PageHints

FRENCH_BOILERPLATE = [
    "Nous utilisons des cookies",  # cookie banner
    "Tout accepter",
    "Accueil",  # menu
    "S'abonner",
    "Rechercher",
    "À lire aussi",  # teaser box: heading and items
    "Cyberdéfense : un exercice conjoint",
    "Accords d’Abraham : trois ans après",
    "Partager",  # share widget
    "WhatsApp",
    "Copier le lien",
    "commentaires",  # comments: heading and the three comments
    "excellente nouvelle pour nos jeunes ingénieurs",
    "montant exact du contrat",
    "part de fabrication réellement locale",
    "Les plus lus",  # sidebar
    "Mentions légales",  # footer
    "Tous droits réservés",
    "Mots-clés",
]


def test_french_article_metadata() -> None:
    url = "https://www.maghreb-depeche.example/international/2024/03/12/rabat-tel-aviv"
    article = extract_article(fixture("fr-article.html"), url)
    assert article is not None
    assert article.url == url
    assert article.title == "Rabat et Tel-Aviv signent un accord sur les drones de surveillance"
    # JSON-LD lists dateModified first; the visible byline shows both dates.
    assert article.published == "2024-03-12T08:30:00+01:00"
    assert article.date_source == "jsonld"
    assert article.lang == "fr"
    assert article.author == "Salma Bennani"
    assert article.site == "Maghreb Dépêche"


def test_french_article_text_without_boilerplate() -> None:
    article = extract_article(fixture("fr-article.html"), "https://example.org/a")
    assert article is not None
    lines = article.text.split("\n")
    assert len(lines) == 7  # the chapô, then one line per paragraph of the body
    assert lines[0].startswith("Le Maroc et Israël ont conclu mardi un accord portant sur")
    assert lines[1].startswith("Le ministère délégué chargé de l’Administration de la défense")
    assert lines[-1].endswith("les deux parties sont restées discrètes jusqu’à présent.")
    for boilerplate in FRENCH_BOILERPLATE:
        assert boilerplate not in article.text


def test_dutch_article_date_from_meta_and_lang_from_og_locale() -> None:
    article = extract_article(fixture("nl-article.html"), "https://nieuwsbode.example/b/1")
    assert article is not None
    assert article.title == "Marokko koopt Israëlisch luchtverdedigingssysteem"
    assert article.published == "2023-07-04T14:20:00+02:00"
    assert article.date_source == "meta"
    assert article.lang == "nl"
    assert article.author == "Pieter de Vries"
    assert article.text.startswith("Marokko heeft een Israëlisch systeem voor luchtverdediging")
    assert article.text.endswith("werd de samenwerking de afgelopen jaren kritisch gevolgd.")
    for boilerplate in ["Wij gebruiken cookies", "Akkoord", "Voorpagina", "Lees ook",
                        "Spanningen rond de Westelijke Sahara", "Deel via WhatsApp",
                        "Cookiebeleid"]:  # fmt: skip
        assert boilerplate not in article.text


def test_wordpress_article_date_from_the_page_itself() -> None:
    url = "https://defencedesk.example/moroccan-israeli-officers-joint-staff-talks/"
    article = extract_article(fixture("en-wordpress-article.html"), url)
    assert article is not None
    assert article.title == "Moroccan and Israeli officers hold first joint staff talks in Rabat"
    # No JSON-LD, no <meta> date: htmldate reads <time class="published">, not "updated".
    assert article.published == "2023-11-07"
    assert article.date_source == "html"
    assert article.lang == "en"
    assert article.author == "James Miller"
    assert article.site == "Defence Desk"
    assert article.text.startswith("Senior officers from the Royal Moroccan Armed Forces")
    assert article.text.endswith("in Israel in the first half of next year.")
    for boilerplate in ["Skip to content", "Proudly powered by WordPress", "Recent Posts",
                        "Share this", "Related", "Drone factory near Casablanca",
                        "medical cooperation angle", "Leave a Reply", "Posted in",
                        "Previous post", "Archives"]:  # fmt: skip
        assert boilerplate not in article.text


def not_pages() -> list[object]:
    noise = random.Random(20240312)
    return [
        pytest.param(b"", id="empty-bytes"),
        pytest.param("", id="empty-str"),
        pytest.param(b"   \n\t ", id="whitespace"),
        pytest.param(b"\x00" * 1000, id="nul-bytes"),
        pytest.param(bytes(noise.getrandbits(8) for _ in range(20_000)), id="random-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, id="png"),
        pytest.param(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 20, id="gzip"),
        pytest.param("<html><body><p>\ud800 broken surrogate</p></body></html>", id="surrogate"),
        pytest.param(b"<html><body>" + b"<div>" * 50_000 + b"</body></html>", id="deep-nesting"),
        pytest.param(fixture("fr-article.html")[:3000], id="cut-in-head"),
        pytest.param(b"<html>" + b" " * (MAX_HTML_SIZE + 1) + b"</html>", id="over-size-limit"),
        pytest.param(b"<frameset><frame src='a.html'></frameset>", id="frameset"),
    ]


@pytest.mark.parametrize("html", not_pages())
def test_input_that_is_no_page_returns_none(html: bytes | str) -> None:
    assert extract_article(html, "https://example.org/x") is None


@pytest.mark.parametrize("header", [None, "no-such-charset", "utf-16", "utf-8"])
def test_random_bytes_return_none_whatever_the_header(header: str | None) -> None:
    noise = random.Random(7)
    html = bytes(noise.getrandbits(8) for _ in range(5000))
    assert extract_article(html, "https://example.org/x", encoding=header) is None


def test_broken_jsonld_is_skipped() -> None:
    page = fixture_text("fr-article.html").replace('{"@context"', '{"@context": [[[[}')
    article = extract_article(page, "https://example.org/a")
    assert article is not None
    assert article.date_source == "meta"


def test_deep_jsonld_does_not_hide_the_article() -> None:
    page = fixture_text("fr-article.html").replace(
        '<script type="application/ld+json">',
        '<script type="application/ld+json">' + "[" * 100_000 + "</script><script>",
    )
    article = extract_article(page, "https://example.org/a")
    assert article is not None
    assert article.date_source == "meta"


def test_large_page_with_an_article_inside() -> None:
    """Pages that inline megabytes of application state still hold their article."""
    state = b'{"id":12345,"title":"a teaser title"},' * 150_000  # about 6 MB
    html = fixture("fr-article.html").replace(
        b"</head>", b'<script type="application/json">[' + state + b"{}]</script></head>"
    )
    article = extract_article(html, "https://example.org/a")
    assert article is not None
    assert article.title == "Rabat et Tel-Aviv signent un accord sur les drones de surveillance"


def test_truncated_download_still_gives_its_paragraphs() -> None:
    html = fixture("fr-article.html")
    cut = html.index(b"Pour les analystes")
    article = extract_article(html[:cut], "https://example.org/a")
    assert article is not None
    assert article.text.endswith("selon plusieurs rapports publiés l’an dernier.")


def test_same_input_same_article() -> None:
    html, hints = fixture("nl-article.html"), PageHints(lang="nl", fetched_at="2024-01-01")
    assert extract_article(html, "u", hints=hints) == extract_article(html, "u", hints=hints)


def test_runs_in_a_process_pool() -> None:
    """What the crawler will do with it: arguments and result cross process boundaries."""
    html = fixture("en-wordpress-article.html")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        article = pool.submit(extract_article, html, "https://example.org/p").result()
    assert article == extract_article(html, "https://example.org/p")
