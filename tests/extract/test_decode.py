"""Decoding: accents survive whatever charset a page declares, or fails to declare."""

from __future__ import annotations

import pytest
from extract_pages import fixture_text

from pipelines.extract import extract_article
from pipelines.extract.decode import decode_html

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
