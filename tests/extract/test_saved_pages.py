"""The extract stage on saved pages: the real third-party pages (the quality gate: mean token
F1 against their true text) and the bundled sample sites, each page checked against the
expected JSON beside it.

Beside each page, a JSON file of what the page says, established from the page itself (its
markup and, for the real pages, the benchmark's true text), not from our output: title,
published, lang, the first and the last sentence of the text, and lines that must not
appear in it. A field that the page does not establish beyond doubt is left out.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from extract_pages import REAL_PAGES, REAL_TRUTH, SAMPLE_SITE_PAGES

from pipelines.extract import extract_article
from pipelines.extract.metadata import (
    parse_datetime,
)
from pipelines.models import Article
from samples.localserver import SITES_DIR

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


@pytest.fixture(scope="module")
def real_pages() -> dict[str, tuple[Article | None, str]]:
    """Every real page extracted once: {id: (article, true article text)}."""
    truth = json.loads(REAL_TRUTH.read_text(encoding="utf-8"))
    results = {}
    for page_id, expected in truth.items():
        html = gzip.decompress((REAL_PAGES / f"{page_id}.html.gz").read_bytes())
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
    files = sorted(SAMPLE_SITE_PAGES.glob("*/*.json"))
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
    for f in sorted(REAL_PAGES.glob("*.json")):
        expected = json.loads(f.read_text(encoding="utf-8"))
        for field in field_misses(real_pages[f.stem][0], expected):
            misses.setdefault(field, []).append(f.stem[:12])
    assert sum(1 for _ in REAL_PAGES.glob("*.json")) == len(real_pages)
    counts = {field: len(pages) for field, pages in misses.items()}
    over = {f: misses[f] for f, n in counts.items() if n > REAL_PAGE_MISSES.get(f, 0)}
    assert over == {}, f"misses per field {counts}, pinned {REAL_PAGE_MISSES}"


def test_a_sentence_that_moved_is_a_miss() -> None:
    """The check itself: it must see a wrong first line, a lost last one, a kept menu."""
    fields = {"first_sentence": "One.", "last_sentence": "Three.", "absent": ["Menu item"]}
    article = Article(url="u", title=None, text="Zero.\nOne.\nTwo.\nMenu item")
    assert set(field_misses(article, fields)) == {"first_sentence", "last_sentence", "absent"}
    assert field_misses(Article(url="u", title=None, text="One. Two.\nThree."), fields) == {}
