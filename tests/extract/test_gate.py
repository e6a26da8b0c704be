"""The article gate: pages that are not articles (listings, contact pages, menus), and the
roundups that are."""

from __future__ import annotations

import pytest
from extract_pages import extract_lines, fixture, words_page

from pipelines.extract import extract_article
from pipelines.extract.cleanup import parse_html
from pipelines.extract.gate import MIN_ARTICLE_WORDS, is_teaser_list

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
