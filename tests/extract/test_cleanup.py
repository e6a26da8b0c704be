"""Cleanup around trafilatura: consent dialogs, "read also" lines, tag lines, the chapô,
the headline, and the cut of a huge tree."""

from __future__ import annotations

import gzip
import textwrap

import pytest
from extract_pages import (
    FIXTURES,
    PARAGRAPHS,
    REAL_PAGES,
    article_page,
    extract_lines,
    fixture,
    fixture_text,
)
from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from pipelines.extract import cleanup, extract_article, run_trafilatura
from pipelines.extract.cleanup import MAX_ELEMENTS, clean_lines, parse_html, trim_tree
from pipelines.extract.gate import MIN_PARAGRAPH_WORDS

COLUMN_TEXT = (
    "Les Forces armées royales ont signé mardi à Rabat un contrat de maintenance avec le"
    " groupe israélien BlueBird Aero Systems pour leur flotte de drones tactiques, selon"
    " plusieurs sources concordantes au sein de l’administration de la défense nationale."
    " Le contrat prévoit un atelier sur la base aérienne de Benslimane, où une trentaine de"
    " techniciens marocains seront formés par des ingénieurs israéliens."
)


def all_pages() -> list[bytes]:
    real = [gzip.decompress(p.read_bytes()) for p in sorted(REAL_PAGES.glob("*.html.gz"))]
    return real + [p.read_bytes() for p in sorted(FIXTURES.glob("*.html"))]


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


def test_consent_markers_are_found_in_any_case_and_beyond_ascii() -> None:
    """The markers match an id or class in any case: in ASCII values through their lowered
    copy, beyond ASCII in the values themselves (where lowering may change the length:
    "İ" lowers to two characters)."""
    dialogs = [
        '<div id="CookieBANNER"><p>Accept all cookies?</p></div>',
        '<div class="NewsLetter-Box"><p>Sign up for our newsletter.</p></div>',
        '<div class="İnfo Cookie-bar"><p>We use cookies.</p></div>',
        '<div class="İnfo"><p>Opening hours</p></div><div class="GDPR-wall"><p>Consent?</p></div>',
    ]
    kept = f'<div class="story"><p>{" ".join(PARAGRAPHS * 3)}</p></div>'
    for dialog in dialogs:
        tree = parse_html(f"<html><body>{dialog}{kept}</body></html>")
        assert tree is not None
        left = tree.text_content().replace("Opening hours", "")
        assert left == " ".join(PARAGRAPHS * 3), dialog


def test_the_lowered_ascii_values_name_the_markers_where_the_values_do() -> None:
    """What the consent search relies on, on every real page and fixture whose ids and
    classes are ASCII: the case-sensitive search of the lowered values finds the markers at
    the same places as the case-insensitive search of the values."""
    searched = 0
    for html in all_pages():
        tree = load_html(html)
        if tree is None:
            continue
        joined = "\n".join(cleanup._ID_AND_CLASS_VALUES(tree))
        if not joined.isascii():
            continue
        folded = cleanup._FOLDED_CONSENT_MARKER.finditer(joined.lower())
        own = cleanup._CONSENT_MARKER.finditer(joined)
        assert [m.span() for m in folded] == [m.span() for m in own]
        searched += 1
    assert searched >= 91


def test_read_also_headings_are_dropped() -> None:
    """trafilatura drops the teaser list of a "read also" box but may keep its heading."""
    tree = parse_html(fixture("fr-article.html"))
    assert tree is not None
    document = run_trafilatura(tree, "https://example.org/a")
    assert document is not None
    assert "\nÀ lire aussi\n" in (document.text or "")
    text = "First.\nÀ lire aussi\n  Read also:  \nLEES OOK\nRead also the other story\n\nLast."
    assert clean_lines(text) == ["First.", "Read also the other story", "Last."]


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


def test_the_headline_is_not_a_line_of_the_text() -> None:
    article = extract_article(article_page(), "https://example.org/x")
    assert article is not None
    assert article.title == "Engineers visit new plant"
    assert article.text.startswith(PARAGRAPHS[0])


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
