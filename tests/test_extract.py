"""The extract stage, tested on real third-party pages and on handmade pages that carry the
boilerplate news sites carry (menus, cookie banners, "read also" boxes, comments)."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import random
import textwrap
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from trafilatura import bare_extraction
from trafilatura.settings import Document

from pipelines.extract import (
    MAX_ELEMENTS,
    MAX_HTML_SIZE,
    MIN_ARTICLE_WORDS,
    MIN_PARAGRAPH_WORDS,
    clean_lines,
    decode_html,
    extract_article,
    is_teaser_list,
    parse_html,
    run_trafilatura,
    trim_tree,
)
from pipelines.extract.metadata import (
    DETECT_SAMPLE_CHARS,
    choose_lang,
    latest_allowed,
    normalise_lang,
    parse_datetime,
    plausible_date,
)
from pipelines.models import Article, PageHints
from samples.localserver import SITES_DIR

DATA = Path(__file__).parent / "data"
REAL_PAGES = DATA / "real-pages"
FIXTURES = DATA / "extract"

# Measured with trafilatura 2.3.1: mean token F1 0.9746 over the 91 real pages (0.9725
# before headlines, tag lines, newsletter boxes and in-body link lists were taken out of the
# text). Pinned a little below, so that a dependency update that costs half a point of F1
# fails here, while one page moving a few tokens (about 0.0005 of the mean) does not.
MEAN_F1_FLOOR = 0.97


def token_f1(extracted: str, expected: str) -> float:
    """F1 of the whitespace tokens of two texts, taken as bags (multiset intersection)."""
    got, want = Counter(extracted.split()), Counter(expected.split())
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# Distinct sentences for pages built in the tests: each one paragraph of 17 to 24 words.
PARAGRAPHS = [
    "The defence ministry confirmed on Tuesday that a delegation of engineers had visited "
    "the new assembly plant outside the capital.",
    "Officials said the plant would employ about three hundred technicians once production "
    "reaches its planned rate in two years.",
    "Analysts see the project as a test of whether the partnership can move beyond buying "
    "equipment towards building an industry.",
    "Neither government disclosed the value of the contract, which was negotiated over "
    "several months according to people familiar with the talks.",
    "The first systems are expected to be delivered before the end of next year, followed by "
    "training for local maintenance crews.",
    "Opposition members of parliament have asked for a debate on the agreement when the "
    "chamber returns from its summer recess.",
]


def article_page(head: str = "", body: str = "", lang: str = "en") -> str:
    """A plain article page with six paragraphs (about 120 words) and no date at all."""
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Engineers visit new plant</title>{head}</head><body>"
        f"<main><article><h1>Engineers visit new plant</h1>{paragraphs}{body}</article></main>"
        "</body></html>"
    )


# --- real pages: the quality gate -------------------------------------------------------


@pytest.fixture(scope="module")
def real_pages() -> dict[str, tuple[Article | None, str]]:
    """Every real page extracted once: {id: (article, true article text)}."""
    truth = json.loads((REAL_PAGES / "ground-truth.json").read_text(encoding="utf-8"))
    results = {}
    for page_id, expected in truth.items():
        html = gzip.decompress((REAL_PAGES / "html" / f"{page_id}.html.gz").read_bytes())
        results[page_id] = (extract_article(html, expected["url"]), expected["articleBody"])
    return results


def test_real_pages_mean_f1_stays_above_floor(
    real_pages: dict[str, tuple[Article | None, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    scores = {
        page_id: token_f1(article.text if article else "", expected)
        for page_id, (article, expected) in real_pages.items()
    }
    mean = sum(scores.values()) / len(scores)
    with capsys.disabled():
        print(f"\nreal pages: mean token F1 {mean:.4f} over {len(scores)} pages")
    worst = sorted(scores.items(), key=lambda item: item[1])[:3]
    assert mean >= MEAN_F1_FLOOR, f"mean F1 {mean:.4f}; worst pages: {worst}"


def test_every_real_page_is_an_article(
    real_pages: dict[str, tuple[Article | None, str]],
) -> None:
    missed = [page_id for page_id, (article, _) in real_pages.items() if article is None]
    assert len(real_pages) == 91
    assert missed == []


def test_real_pages_have_a_title_and_a_past_date(
    real_pages: dict[str, tuple[Article | None, str]],
) -> None:
    articles = [article for article, _ in real_pages.values() if article]
    assert all(article.title for article in articles)
    dated = [article for article in articles if article.published]
    # Measured: every page gets a date, 52 from JSON-LD, 20 from <meta> and the other 19
    # from htmldate (whose share may move with its version; ours should not).
    assert len(dated) == len(articles)
    sources = Counter(article.date_source for article in dated)
    assert (sources["jsonld"], sources["meta"]) == (52, 20)
    today = datetime.now(UTC).date().isoformat()
    assert all((article.published or "")[:10] <= today for article in dated)


# --- expected fields, page by page -------------------------------------------------------
#
# Beside each page, a JSON file of what the page says, established from the page itself
# (its markup and, for the real pages, the benchmark's true text), not from our output:
# title, published, lang, the first and the last sentence of the text, and lines that
# must not appear in it. A field that the page does not establish beyond doubt is left out.

EXPECTED_SITES = FIXTURES / "expected"
SAMPLE_BASE = "http://127.0.0.1:8000"

# Measured: fields that do not match on the real pages, out of the pages that have them.
# The three titles: the site's JSON-LD headline is another wording than its <h1>. The
# sentences: captions, datelines and "more on this" lines that trafilatura keeps at either
# end of the text, or a first paragraph it drops. Pinned at the measure (plus two for the
# sentences, where a dependency update may move a page either way).
REAL_PAGE_MISSES = {
    "title": 3, "published": 0, "lang": 0, "first_sentence": 20, "last_sentence": 32,
    "absent": 0,
}  # fmt: skip


def _flat(text: str) -> str:
    return " ".join(text.split())


def field_misses(article: Article | None, expected: dict[str, Any]) -> dict[str, object]:
    """The expected fields that `article` gets wrong, with what it has instead."""
    if article is None:
        return {"article": None}
    text = _flat(article.text)
    misses: dict[str, object] = {}
    if "title" in expected and article.title != expected["title"]:
        misses["title"] = article.title
    if "published" in expected and (
        parse_datetime(article.published or "") != parse_datetime(expected["published"])
    ):
        misses["published"] = article.published
    if "lang" in expected and article.lang != expected["lang"]:
        misses["lang"] = article.lang
    if "first_sentence" in expected and not text.startswith(_flat(expected["first_sentence"])):
        misses["first_sentence"] = text[:120]
    if "last_sentence" in expected and not text.endswith(_flat(expected["last_sentence"])):
        misses["last_sentence"] = text[-120:]
    found = [line for line in expected.get("absent", []) if _flat(line) in text]
    if found:
        misses["absent"] = found
    return misses


def sample_site_page(site: str, url_path: str) -> bytes:
    """A page of a bundled sample site, as the local server would serve it."""
    name = url_path.lstrip("/")
    name = name + "index.html" if name.endswith("/") or not name else name
    html = (SITES_DIR / site / name.replace("?", "@")).read_bytes()
    return html.replace(b"{{base}}", SAMPLE_BASE.encode())


def test_every_sample_site_article_has_its_expected_fields() -> None:
    manifest = json.loads((SITES_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    articles = {
        (site, entry["path"])
        for site, spec in manifest.items()
        for entry in spec["articles"]
        if entry["kind"] not in ("not-article", "missing")
    }
    files = sorted(EXPECTED_SITES.glob("*/*.json"))
    expected = {f: json.loads(f.read_text(encoding="utf-8")) for f in files}
    assert {(f.parent.name, e["url_path"]) for f, e in expected.items()} == articles
    misses = {}
    for f, fields in expected.items():
        html = sample_site_page(f.parent.name, fields["url_path"])
        article = extract_article(html, SAMPLE_BASE + fields["url_path"])
        if wrong := field_misses(article, fields):
            misses[f"{f.parent.name}/{f.name}"] = wrong
    assert misses == {}


def test_real_pages_have_their_expected_fields(
    real_pages: dict[str, tuple[Article | None, str]],
) -> None:
    misses: dict[str, list[str]] = {field: [] for field in REAL_PAGE_MISSES}
    for f in sorted((REAL_PAGES / "expected").glob("*.json")):
        expected = json.loads(f.read_text(encoding="utf-8"))
        for field in field_misses(real_pages[f.stem][0], expected):
            misses.setdefault(field, []).append(f.stem[:12])
    assert sum(1 for _ in (REAL_PAGES / "expected").glob("*.json")) == len(real_pages)
    counts = {field: len(pages) for field, pages in misses.items()}
    over = {f: misses[f] for f, n in counts.items() if n > REAL_PAGE_MISSES.get(f, 0)}
    assert over == {}, f"misses per field {counts}, pinned {REAL_PAGE_MISSES}"


def test_a_sentence_that_moved_is_a_miss() -> None:
    """The check itself: it must see a wrong first line, a lost last one, a kept menu."""
    fields = {"first_sentence": "One.", "last_sentence": "Three.", "absent": ["Menu item"]}
    article = Article(url="u", title=None, text="Zero.\nOne.\nTwo.\nMenu item")
    assert set(field_misses(article, fields)) == {"first_sentence", "last_sentence", "absent"}
    assert field_misses(Article(url="u", title=None, text="One. Two.\nThree."), fields) == {}


# --- handmade articles ------------------------------------------------------------------

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


# --- pages that are not articles --------------------------------------------------------


LISTINGS = ["fr-section-listing.html", "nl-section-list.html", "en-tag-archive.html"]


@pytest.mark.parametrize("name", [*LISTINGS, "contact.html", "not-found.html"])
def test_pages_that_are_not_articles(name: str) -> None:
    assert extract_article(fixture(name), "https://example.org/x") is None


@pytest.mark.parametrize("name", LISTINGS)
def test_listings_are_recognised_by_their_teasers(name: str) -> None:
    """Their teaser summaries are long enough to pass for text: the teaser rule decides."""
    tree = parse_html(fixture(name))
    assert tree is not None
    lines = extract_lines(fixture(name))
    assert sum(len(line.split()) for line in lines) >= 2 * MIN_ARTICLE_WORDS
    assert is_teaser_list(lines, tree)


@pytest.mark.parametrize(
    "name", ["fr-article.html", "nl-article.html", "en-wordpress-article.html"]
)
def test_articles_are_not_teaser_lists(name: str) -> None:
    tree = parse_html(fixture(name))
    assert tree is not None
    assert not is_teaser_list(extract_lines(fixture(name)), tree)


ROUNDUP_ITEMS = [
    ("Marokko test Israëlische radar", "Het leger testte deze week bij Guelmim een mobiele"
     " radar van Elta die kleine drones op 25 kilometer afstand kan zien."),
    ("Rabat bestelt nieuwe drones", "De luchtmacht bestelt twaalf verkenningsdrones bij"
     " BlueBird Aero Systems, een dochter van Israel Aerospace Industries."),
    ("Gezamenlijke oefening in de Sahara", "Marokkaanse en Israëlische commando's oefenden"
     " twee weken samen in de woestijn bij Tan-Tan, meldt een defensiesite."),
    ("Cyberakkoord getekend", "Beide landen tekenden in Tel Aviv een akkoord over het"
     " delen van informatie over aanvallen op overheidsnetwerken en ziekenhuizen."),
]  # fmt: skip


def roundup_page(head: str, item_extra: str = "") -> str:
    """A weekly roundup: each item a linked headline and the story's first sentence."""
    items = "".join(
        f'<div class="item"><h3><a href="https://other.example/{i}">{title}</a></h3>'
        f"{item_extra}<p>{summary}</p></div>"
        for i, (title, summary) in enumerate(ROUNDUP_ITEMS)
    )
    return (
        f"<html><head><title>De week in defensie</title>{head}</head><body><article>"
        "<h1>De week in defensie</h1><p>Elke zaterdag zetten we het defensienieuws uit"
        " Marokko en Israël van de afgelopen week op een rij, met de eerste zin van elk"
        f" verhaal en een link naar de bron.</p>{items}<p>Volgende week: de begroting van"
        " het ministerie van Defensie en de reactie van Algerije op de nieuwe drones.</p>"
        "</article></body></html>"
    )


OWN_DATE = '<meta property="article:published_time" content="2026-11-21T09:00:00+01:00">'
OWN_JSONLD = (
    '<script type="application/ld+json">{"@context": "https://schema.org", "@graph":'
    ' [{"@type": "WebPage"}, {"@type": "NewsArticle", "datePublished": "2026-11-21"}]}'
    "</script>"
)
NESTED_JSONLD = (
    '<script type="application/ld+json">{"@type": "ItemList", "itemListElement":'
    ' [{"@type": "ListItem", "item": {"@type": "NewsArticle", "datePublished": "2026-11-20"}}]}'
    "</script>"
)


@pytest.mark.parametrize("head", [OWN_DATE, OWN_JSONLD])
def test_a_dated_roundup_of_linked_headlines_is_an_article(head: str) -> None:
    article = extract_article(roundup_page(head), "https://example.org/week")
    assert article is not None
    assert ROUNDUP_ITEMS[2][1] in article.text


@pytest.mark.parametrize("head", ["", NESTED_JSONLD, '<meta property="og:type" content="article">'])
def test_the_same_page_without_a_date_of_its_own_is_a_listing(head: str) -> None:
    """Dates nested in an ItemList or in the teasers' microdata are the teasers' dates."""
    microdata = '<meta itemprop="datePublished" content="2026-11-20">'
    assert extract_article(roundup_page(head, microdata), "https://example.org/week") is None


COLUMN_TEXT = (
    "Les Forces armées royales ont signé mardi à Rabat un contrat de maintenance avec le"
    " groupe israélien BlueBird Aero Systems pour leur flotte de drones tactiques, selon"
    " plusieurs sources concordantes au sein de l’administration de la défense nationale."
    " Le contrat prévoit un atelier sur la base aérienne de Benslimane, où une trentaine de"
    " techniciens marocains seront formés par des ingénieurs israéliens."
)


def test_a_print_column_kept_line_by_line_is_one_paragraph() -> None:
    """Each printed line (``<br>``) is a line of trafilatura's text; as lines of five words
    they would not count as running text, and the page would be no article."""
    column = "<br>".join(textwrap.wrap(COLUMN_TEXT, 32))
    page = f"<html><body><article><h1>Kiosque</h1><p>{column}</p></article></body></html>"
    article = extract_article(page, "https://example.org/kiosque")
    assert article is not None
    lines = article.text.splitlines()
    # A printed line that starts with a name ("Benslimane") may stay a line of its own.
    assert " ".join(lines) == COLUMN_TEXT and len(lines) <= 3
    assert all(len(line.split()) >= MIN_PARAGRAPH_WORDS for line in lines)


def extract_lines(html: bytes) -> list[str]:
    """The lines trafilatura keeps, before our "is it an article?" decision."""
    tree = parse_html(html)
    assert tree is not None
    document = run_trafilatura(tree, "https://example.org/x", PageHints())
    assert document is not None
    return clean_lines(document.text or "")


def test_cookie_consent_dialogs_are_dropped() -> None:
    """trafilatura keeps tarteaucitron's banner on the contact page as a paragraph."""
    page = fixture_text("contact.html")
    kept = bare_extraction(page, favor_precision=True, include_comments=False)
    assert isinstance(kept, Document) and "utilisent des cookies" in (kept.text or "")
    assert not any("cookies" in line for line in extract_lines(fixture("contact.html")))


def test_consent_dialog_markers() -> None:
    dialogs = [
        '<div id="CybotCookiebotDialog"><p>This website uses cookies.</p></div>',
        '<div class="didomi-popup"><p>We and our partners store data.</p></div>',
        '<section class="gdpr-notice"><p>Your privacy matters.</p></section>',
        '<div id="onetrust-banner-sdk"><p>Accept all cookies?</p></div>',
    ]
    kept = f'<div class="cookies-accepted"><p>{" ".join(PARAGRAPHS * 3)}</p></div>'
    tree = parse_html(f"<html><body>{''.join(dialogs)}{kept}</body></html>")
    assert tree is not None
    assert tree.text_content() == " ".join(PARAGRAPHS * 3)


def words_page(count: int) -> str:
    words = " ".join(f"word{i}" for i in range(count))
    return f"<html><body><article><p>{words}.</p></article></body></html>"


def test_article_word_threshold() -> None:
    assert extract_article(words_page(MIN_ARTICLE_WORDS - 1), "https://example.org/x") is None
    assert extract_article(words_page(MIN_ARTICLE_WORDS), "https://example.org/x") is not None


def test_short_lines_do_not_make_an_article() -> None:
    """Fifty menu-like lines of five words are 250 words, and still no article."""
    items = "".join(f"<p>Section {i} news and more</p>" for i in range(50))
    page = f"<html><body><main>{items}</main></body></html>"
    assert extract_article(page, "https://example.org/x") is None


def test_empty_page() -> None:
    page = "<html><head><title>Home</title></head><body></body></html>"
    assert extract_article(page, "https://example.org/") is None


def test_read_also_headings_are_dropped() -> None:
    """trafilatura drops the teaser list of a "read also" box but may keep its heading."""
    tree = parse_html(fixture("fr-article.html"))
    assert tree is not None
    document = run_trafilatura(tree, "https://example.org/a", PageHints())
    assert document is not None
    assert "\nÀ lire aussi\n" in (document.text or "")
    text = "First.\nÀ lire aussi\n  Read also:  \nLEES OOK\nRead also the other story\n\nLast."
    assert clean_lines(text) == ["First.", "Read also the other story", "Last."]


# --- dates ------------------------------------------------------------------------------


def jsonld(**fields: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_jsonld_date_published_beats_date_modified() -> None:
    head = jsonld(dateModified="2024-05-02T10:00:00Z", datePublished="2024-04-30T08:00:00Z")
    article = extract_article(article_page(head=head), "https://example.org/x")
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-30T08:00:00+00:00", "jsonld")


def test_jsonld_in_a_graph_with_several_types() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "datePublished": "2020-01-01"},
            {"@type": ["ReportageNewsArticle"], "datePublished": "2024-04-30"},
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    article = extract_article(article_page(head=head), "https://example.org/x")
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-30", "jsonld")


def test_date_after_fetch_time_is_rejected() -> None:
    head = jsonld(datePublished="2024-05-03T09:00:00+02:00") + (
        '<meta property="article:published_time" content="2024-04-30T08:00:00Z">'
    )
    hints = PageHints(fetched_at="2024-05-01T12:00:00Z")
    article = extract_article(article_page(head=head), "https://example.org/x", hints=hints)
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-30T08:00:00+00:00", "meta")


def test_future_date_is_rejected_without_fetch_time() -> None:
    head = jsonld(datePublished="2999-01-01T00:00:00Z")
    hints = PageHints(feed_published="2024-04-29T06:00:00Z")
    article = extract_article(article_page(head=head), "https://example.org/x", hints=hints)
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-29T06:00:00+00:00", "feed")


def test_news_sitemap_date_says_it_came_from_the_sitemap() -> None:
    hints = PageHints(feed_published="2024-04-29T06:00:00Z", found_via="sitemap")
    article = extract_article(article_page(), "https://example.org/news/plant", hints=hints)
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-29T06:00:00+00:00", "sitemap")


def test_sources_check_says_a_date_came_from_the_sitemap() -> None:
    from crawler.cli.sources import _describe
    from crawler.items import PageItem

    url = "https://example.org/news/plant"
    hints = {"feed_published": "2024-04-29T06:00:00Z"}
    item = PageItem(url, url, article_page().encode(), "s", "sitemap", "utf-8", 200, hints)
    assert _describe(item)["date_source"] == "sitemap"


def test_feed_date_when_the_page_has_none() -> None:
    hints = PageHints(feed_published="2024-04-29T06:00:00Z")
    article = extract_article(article_page(), "https://example.org/news/plant", hints=hints)
    assert article is not None
    assert (article.published, article.date_source) == ("2024-04-29T06:00:00+00:00", "feed")


def test_no_date_at_all() -> None:
    article = extract_article(article_page(), "https://example.org/news/plant")
    assert article is not None
    assert (article.published, article.date_source) == (None, None)


def test_page_dates_after_fetch_time_fall_back_to_feed() -> None:
    hints = PageHints(fetched_at="2024-03-01T00:00:00Z", feed_published="2024-02-28")
    article = extract_article(fixture("fr-article.html"), "https://example.org/a", hints=hints)
    assert article is not None
    assert (article.published, article.date_source) == ("2024-02-28", "feed")


LIMIT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T11:59:00Z", "2024-05-01T11:59:00+00:00"),
        ("2024-05-01T12:01:00Z", None),  # one minute after the fetch
        ("2024-05-01T13:30:00+02:00", "2024-05-01T13:30:00+02:00"),  # 11:30 UTC
        ("2024-05-02", "2024-05-02"),  # a date-only value may be local time east of UTC
        ("2024-05-03", None),
        ("2024-05-02 01:00:00", "2024-05-02T01:00:00"),  # naive: same 14-hour allowance
        ("Tue, 30 Apr 2024 08:00:00 +0200", "2024-04-30T08:00:00+02:00"),  # RFC 2822
        ("20240430", "2024-04-30"),
        ("Tue, 30 Apr 99999999999 08:00:00 +0200", None),
        ("0001-01-01T00:00:00Z", None),  # a CMS placeholder
        ("1970-01-01", None),
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_plausible_date(value: str, expected: str | None) -> None:
    assert plausible_date(value, LIMIT) == expected


def test_latest_allowed_is_the_fetch_time_but_never_after_now() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert latest_allowed("2024-05-01T12:00:00Z", now) == LIMIT
    assert latest_allowed("2024-05-01T12:00:00", now) == LIMIT  # naive means UTC
    assert latest_allowed("2999-01-01T00:00:00Z", now) == now
    assert latest_allowed(None, now) == now
    assert latest_allowed("not a date", now) == now
    assert latest_allowed(None).date() >= date(2024, 6, 1)


# --- title and language fallbacks -------------------------------------------------------


def test_feed_title_when_the_page_has_none() -> None:
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    page = f"<html><body><div>{paragraphs}</div></body></html>"
    hints = PageHints(feed_title="Engineers visit new plant")
    article = extract_article(page, "https://example.org/x", hints=hints)
    assert article is not None
    assert article.title == "Engineers visit new plant"


def test_text_language_wins_over_a_wrong_declaration() -> None:
    """Site templates often declare one language for all their editions."""
    article = extract_article(fixture_text("fr-article.html").replace('lang="fr"', 'lang="en"'),
                              "https://example.org/a")  # fmt: skip
    assert article is not None
    assert article.lang == "fr"


def test_declared_language_when_the_text_is_inconclusive() -> None:
    article = extract_article(words_page(60).replace("<html>", '<html lang="pt-BR">'), "u")
    assert article is not None
    assert article.lang == "pt"


def test_configured_language_when_nothing_else_says() -> None:
    hints = PageHints(lang="nl")
    article = extract_article(words_page(60), "https://example.org/x", hints=hints)
    assert article is not None
    assert article.lang == "nl"


@pytest.mark.parametrize(
    ("tag", "code"),
    [("fr-FR", "fr"), ("nl_NL", "nl"), ("EN", "en"), ("iw", "he"), ("fil", None),
     ("x-default", None), ("", None), (None, None)],
)  # fmt: skip
def test_normalise_lang(tag: str | None, code: str | None) -> None:
    assert normalise_lang(tag) == code


def test_choose_lang_order() -> None:
    english = " ".join(PARAGRAPHS)
    assert choose_lang("de", english, "fr") == "en"  # a long text outweighs a declaration
    assert choose_lang(None, english, "fr") == "en"
    assert choose_lang("de", "too short to tell", "fr") == "de"
    assert choose_lang(None, "too short to tell", "fr-FR") == "fr"
    assert choose_lang(None, "too short to tell", None) is None


# --- charsets ---------------------------------------------------------------------------

FRENCH = fixture_text("fr-article.html")
FRENCH_UNDECLARED = FRENCH.replace('<meta charset="utf-8">\n', "")
LATIN1_META = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'


@pytest.mark.parametrize(
    ("html", "header"),
    [
        pytest.param(FRENCH_UNDECLARED.encode("cp1252"), None, id="cp1252-undeclared"),
        pytest.param(FRENCH.encode("cp1252"), None, id="cp1252-declared-utf8"),
        pytest.param(FRENCH_UNDECLARED.encode("cp1252"), "utf-8", id="cp1252-header-utf8"),
        pytest.param(FRENCH.encode("cp1252"), "windows-1252", id="header-beats-wrong-meta"),
        pytest.param(
            FRENCH.replace('<meta charset="utf-8">', LATIN1_META).encode(),
            None,
            id="utf8-declared-latin1",
        ),
        pytest.param(FRENCH.encode(), "ISO-8859-1", id="utf8-header-latin1"),
        pytest.param(FRENCH_UNDECLARED.encode(), None, id="utf8-undeclared"),
        pytest.param(FRENCH_UNDECLARED.encode("utf-16"), None, id="utf16-bom"),
    ],
)
def test_french_accents_survive_any_declaration(html: bytes, header: str | None) -> None:
    article = extract_article(html, "https://example.org/a", encoding=header)
    assert article is not None
    for word in ["Israël", "côté", "témoigne", "œuvre", "jusqu’à présent", "« un partenariat"]:
        assert word in article.text
    assert article.site == "Maghreb Dépêche"
    assert "Ã" not in article.text and "\ufffd" not in article.text


def test_dutch_diaeresis_in_undeclared_cp1252() -> None:
    page = fixture_text("nl-article.html").replace('<meta charset="utf-8">\n', "")
    article = extract_article(page.encode("cp1252"), "https://example.org/b")
    assert article is not None
    assert "België" in article.text and "ideeën" in article.text


def test_header_charset_is_honoured_for_arabic() -> None:
    paragraphs = "".join(
        f"<p>وقع المغرب وإسرائيل الاتفاق رقم {i} للتعاون الدفاعي الذي يشمل تصنيع الطائرات "
        "المسيرة ونقل التكنولوجيا إلى المهندسين المغاربة في السنوات المقبلة.</p>"
        for i in range(4)
    )
    page = f'<html lang="ar"><body><article>{paragraphs}</article></body></html>'
    article = extract_article(page.encode("cp1256"), "https://example.org/c", encoding="cp1256")
    assert article is not None
    assert article.text.startswith("وقع المغرب وإسرائيل الاتفاق رقم 0")
    assert article.lang == "ar"


def test_decode_html_keeps_ascii_pages_as_they_are() -> None:
    assert decode_html(b"<p>plain</p>", "iso-8859-1") == "<p>plain</p>"
    assert decode_html(b"<p>plain</p>", "no-such-charset") == "<p>plain</p>"


# --- input that is not a page -----------------------------------------------------------


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


# --- a pure function --------------------------------------------------------------------


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


def test_reading_time_badges_are_not_article_text() -> None:
    from pipelines.extract import clean_lines

    lines = clean_lines(
        "Reading Time: 1 minute\n (3 minutes read) \nTemps de lecture : 2 min\n"
        "Leestijd: 4 minuten\n5 min read\nReading time matters for 3 minutes of your day."
    )
    assert lines == ["Reading time matters for 3 minutes of your day."]


def test_inline_read_also_links_are_not_article_text() -> None:
    from pipelines.extract import clean_lines

    lines = clean_lines(
        "Lire aussi : Le Maroc achète des drones\nÀ LIRE : Un autre titre\n"
        "Lees ook: Marokko koopt tanks\nRead more: Another story\n"
        "Lire aussi les déclarations du ministre, qui a répondu : « nous verrons »"
    )
    assert lines == ["Lire aussi les déclarations du ministre, qui a répondu : « nous verrons »"]


@pytest.mark.parametrize(
    ("candidates", "site", "expected"),
    [
        (["Un titre | Le Courrier de Tel-Aviv"], "Le Courrier de Tel-Aviv", "Un titre"),
        (["Een titel - NieuwsBlik"], "nieuwsblik", "Een titel"),
        ([None, "", "Feed title"], "Site", "Feed title"),
        (["Morocco | Israel: a deal"], "Defense Wire", "Morocco | Israel: a deal"),
        (["Headline from JSON-LD", "Headline | Site"], "Site", "Headline from JSON-LD"),
    ],
)
def test_titles_lose_the_site_name(candidates: list[str | None], site: str, expected: str) -> None:
    from pipelines.extract.metadata import choose_title

    assert choose_title(candidates, site) == expected


# --- added checks: charsets, leads, page size, tag lines --------------------------------

DUTCH = fixture_text("nl-article.html")
DUTCH_UNDECLARED = DUTCH.replace('<meta charset="utf-8">\n', "")


@pytest.mark.parametrize(
    ("html", "header"),
    [
        pytest.param(b"\xef\xbb\xbf" + DUTCH.encode(), "iso-8859-1", id="utf8-bom-beats-header"),
        pytest.param(b"\xff\xfe" + DUTCH_UNDECLARED.encode("utf-16-le"), None, id="utf16le-bom"),
        pytest.param(b"\xfe\xff" + DUTCH_UNDECLARED.encode("utf-16-be"), None, id="utf16be-bom"),
        pytest.param(DUTCH_UNDECLARED.encode("latin-1"), None, id="latin1-undeclared"),
        pytest.param(DUTCH.encode("latin-1"), None, id="latin1-declared-utf8"),
    ],
)
def test_dutch_text_survives_byte_order_marks_and_latin1(html: bytes, header: str | None) -> None:
    article = extract_article(html, "https://example.org/b", encoding=header)
    assert article is not None
    assert "België" in article.text and "ideeën" in article.text
    assert article.title == "Marokko koopt Israëlisch luchtverdedigingssysteem"
    assert "\ufeff" not in article.text and "\ufffd" not in article.text


CHAPO = (
    "Les premiers drones assemblés au Maroc ont été livrés lundi aux Forces armées royales,"
    " une étape pour l'industrie de défense naissante du royaume."
)
BODY_FR = "".join(
    f'<p class="article__paragraph">{text}</p>'
    for text in [
        "Le ministère de la Défense a confirmé mardi qu'une délégation d'ingénieurs avait visité"
        " la nouvelle usine d'assemblage située près de la capitale économique.",
        "Selon les responsables, l'usine emploiera environ trois cents techniciens lorsque la"
        " production atteindra son rythme prévu dans deux ans, a-t-on appris.",
        "Les analystes y voient un test pour savoir si le partenariat peut aller au-delà de"
        " l'achat d'équipements vers la construction d'une véritable industrie.",
    ]
)


@pytest.mark.parametrize(
    "lead",
    [
        f'<p class="article__desc">{CHAPO}</p>',  # Le Monde: in the header, beside the <h1>
        f'<div class="article-lead"><p>{CHAPO}</p></div>',
        f'<div class="chapo"><p>{CHAPO}</p></div>',  # SPIP
    ],
)
def test_the_chapo_outside_the_body_is_kept_once(lead: str) -> None:
    page = (
        '<html lang="fr"><head><meta charset="utf-8"><title>Drones</title></head><body>'
        '<nav><a href="/">Accueil</a> <a href="/i">International</a></nav>'
        f"<main><header><h1>Premiers drones livrés</h1>{lead}</header>"
        f'<article class="article__content">{BODY_FR}</article></main>'
        "<footer>Mentions légales</footer></body></html>"
    )
    article = extract_article(page, "https://example.org/fr/drones")
    assert article is not None
    assert article.text.startswith(CHAPO + "\n")
    assert article.text.count("Les premiers drones") == 1


def test_a_teaser_summary_is_no_chapo() -> None:
    teaser = f'<div class="chapo"><a href="/autre">{CHAPO}</a></div>'
    page = (
        f'<html lang="fr"><body><main><h1>Titre</h1>{teaser}'
        f"<article>{BODY_FR}</article></main></body></html>"
    )
    article = extract_article(page, "https://example.org/fr/x")
    assert article is not None and CHAPO not in article.text


def test_a_page_of_too_many_elements_is_cut_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200,000 tiny paragraphs took trafilatura 95 s; the article in front is kept."""
    tail = "<p>ok</p>" * 200_000
    page = article_page(body=tail)
    with caplog.at_level("WARNING", logger="pipelines.extract"):
        article = extract_article(page, "https://example.org/huge")
    assert article is not None
    assert article.text.startswith(PARAGRAPHS[0])
    assert PARAGRAPHS[-1] in article.text
    assert "https://example.org/huge: 200" in caplog.text
    assert f"first {MAX_ELEMENTS} only" in caplog.text


def test_trim_tree_keeps_the_first_elements_in_document_order() -> None:
    tree = parse_html("<html><body><div><p>a</p><p>b</p></div><p>c</p><p>d</p></body></html>")
    assert tree is not None
    assert trim_tree(tree, limit=10) == 0
    assert trim_tree(tree, limit=4) == 7  # html, body, div, and four <p>
    assert tree.text_content() == "a"


def test_trim_tree_cuts_inside_a_container_that_is_the_last_kept_element() -> None:
    spans = "<span>s</span>" * 7
    tree = parse_html(f"<html><body>{spans}<div>{'<p>p</p>' * 500}</div></body></html>")
    assert tree is not None
    assert trim_tree(tree, limit=10) == 510  # html, body, 7 spans, the div, 500 <p>
    assert int(tree.xpath("count(//*)")) == 10
    assert "p" not in tree.text_content()


def test_tag_lines_are_not_article_text() -> None:
    lines = clean_lines(
        "Trefwoorden: Marokko-Israël Marokko\nMots-clés : Défense, Israël\nTags: Morocco\n"
        "Tags: a long sentence that goes on to discuss the labels newsrooms give their"
        " stories, for many more words than a line of tags ever holds."
    )
    assert lines == [
        "Tags: a long sentence that goes on to discuss the labels newsrooms give their stories,"
        " for many more words than a line of tags ever holds."
    ]


def test_html_entities_in_a_jsonld_headline_are_decoded() -> None:
    head = jsonld(headline="Lynn: &#8220;We needed to win this&nbsp;game&#8221; &amp; more")
    article = extract_article(article_page(head=head), "https://example.org/x")
    assert article is not None
    assert article.title == "Lynn: “We needed to win this game” & more"


def test_the_headline_is_not_a_line_of_the_text() -> None:
    article = extract_article(article_page(), "https://example.org/x")
    assert article is not None
    assert article.title == "Engineers visit new plant"
    assert article.text.startswith(PARAGRAPHS[0])


def test_language_detection_reads_a_bounded_sample() -> None:
    """A long English text with a long French tail: the sample decides, not the tail."""
    english = " ".join(PARAGRAPHS * 3)
    assert len(english) > DETECT_SAMPLE_CHARS
    french = fixture_text("fr-article.html")
    assert choose_lang("fr", english + " " + french * 5, None) == "en"
