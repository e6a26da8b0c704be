"""When precision mode keeps too little of a page, the JSON-LD articleBody or trafilatura's
default mode stands in (pipelines/extract/fallback.py), by a tested rule and only then."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from extract_pages import FIXTURES, PARAGRAPHS, REAL_PAGES, REAL_TRUTH, fixture, fixture_text

import pipelines.extract.fallback as fallback
from pipelines.extract import extract_article, run_trafilatura
from pipelines.extract.cleanup import clean_lines, parse_html
from pipelines.extract.fallback import jsonld_body
from pipelines.extract.gate import is_article

REPRINT = "en-reprint-article"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / f"{REPRINT}.json").read_text("utf-8"))


@pytest.fixture
def default_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs the default mode ran for."""
    runs: list[str] = []
    real = fallback.run_default

    def counted(tree: Any, url: str, metadata: bool) -> Any:
        runs.append(url)
        return real(tree, url, metadata)

    monkeypatch.setattr("pipelines.extract.run_default", counted)
    return runs


def test_precision_alone_keeps_only_the_reprint_notice() -> None:
    """The fault: precision mode's text is a byline and a notice, not an article."""
    tree = parse_html(fixture(f"{REPRINT}.html"))
    assert tree is not None
    document = run_trafilatura(tree, EXPECTED["url"])
    assert document is not None
    lines = clean_lines(document.text or "")
    assert any(line.startswith("This article first appeared") for line in lines)
    assert not is_article(lines, tree)


def test_the_declared_body_stands_in(default_runs: list[str]) -> None:
    article = extract_article(fixture(f"{REPRINT}.html"), EXPECTED["url"])
    assert article is not None
    assert article.title == EXPECTED["title"]
    assert article.published == EXPECTED["published"]
    assert article.lang == EXPECTED["lang"]
    assert article.text.startswith(EXPECTED["first_sentence"])
    assert article.text.endswith(EXPECTED["last_sentence"])
    for line in EXPECTED["absent"]:
        assert line not in article.text
    assert len(article.text.split()) == 363
    assert len(article.text.splitlines()) == 8  # the body's paragraphs, kept apart
    assert default_runs == [EXPECTED["url"]]  # precision failed the gate: worth a look


def test_without_json_ld_the_default_mode_stands_in() -> None:
    page = fixture_text(f"{REPRINT}.html")
    start = page.index('<script type="application/ld+json">')
    page = page[:start] + page[page.index("</script>", start) + len("</script>") :]
    article = extract_article(page, EXPECTED["url"])
    assert article is not None
    # The default mode's own reading: the byline and the notice come with the story.
    assert EXPECTED["first_sentence"] in article.text
    assert EXPECTED["last_sentence"] in article.text
    assert article.title == EXPECTED["title"]


def test_a_good_precision_text_is_kept_and_costs_no_second_run(default_runs: list[str]) -> None:
    html = fixture("fr-article.html")
    assert extract_article(html, "https://example.org/a") is not None
    assert default_runs == []


def test_a_longer_json_ld_body_of_menu_lines_is_not_taken() -> None:
    """A candidate must be prose: link labels and headings do not replace an article."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:4])
    menu = "\\n".join(f"Section {i}" for i in range(400))
    page = (
        '<html><head><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "articleBody": "{menu}"}}</script></head>'
        f"<body><article><h1>Title</h1>{paragraphs}</article></body></html>"
    )
    article = extract_article(page, "https://example.org/m")
    assert article is not None
    assert "Section 12" not in article.text
    assert PARAGRAPHS[0] in article.text


def test_an_html_article_body_becomes_lines() -> None:
    page = (
        '<html><head><script type="application/ld+json">'
        '[{"@type": "WebPage"}, {"@type": ["NewsArticle"], "articleBody":'
        ' "<p>First &amp; one.</p><p>Second<br>third.</p>"}]</script></head><body></body></html>'
    )
    tree = parse_html(page)
    assert tree is not None
    body = jsonld_body(tree)
    assert body is not None
    assert [line for line in body.splitlines() if line] == ["First & one.", "Second", "third."]


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each trafilatura run of an extraction: whether it compared with readability."""
    runs: list[bool] = []
    real = run_trafilatura

    def counted(*args: Any, compare: bool = True, **kwargs: Any) -> Any:
        runs.append(compare)
        return real(*args, compare=compare, **kwargs)

    monkeypatch.setattr("pipelines.extract.run_trafilatura", counted)
    return runs


def test_a_page_whose_text_the_main_extractor_holds_costs_one_run(
    comparisons: list[bool],
) -> None:
    article = extract_article(fixture("fr-article.html"), "https://example.org/fr")
    assert article is not None
    assert comparisons == [False]


def test_trafilatura_compares_when_its_main_extractor_keeps_too_little(
    comparisons: list[bool],
) -> None:
    """The main extractor alone keeps one paragraph of a real page (the text sits in a
    box it drops); trafilatura's comparison with readability then finds the rest."""
    page = "e372e42c0a3df7b86e1c0bacf7bc14d042144a01e88833bc5a643d61b3547090"
    truth = json.loads(REAL_TRUTH.read_text("utf-8"))[page]
    html = gzip.decompress((REAL_PAGES / f"{page}.html.gz").read_bytes())
    tree = parse_html(html)
    assert tree is not None
    alone = run_trafilatura(tree, truth["url"], compare=False)
    assert alone is not None and not is_article(clean_lines(alone.text or ""), tree)
    comparisons.clear()
    article = extract_article(html, truth["url"])
    assert comparisons == [False, True]
    assert article is not None
    assert article.text.split()[-3:] == truth["articleBody"].split()[-3:]
