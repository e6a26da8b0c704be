"""Pages for the extract tests: the saved pages on disk, and pages built in the tests that
carry the boilerplate news sites carry (menus, cookie banners, "read also" boxes)."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.extract import run_trafilatura
from pipelines.extract.cleanup import clean_lines, parse_html

# The saved pages, each with the JSON of its expected fields beside it where there is one.
DATA = Path(__file__).parent.parent / "data"
REAL_PAGES = DATA / "pages" / "real"  # <id>.html.gz beside <id>.json (expected fields)
REAL_TRUTH = DATA / "pages" / "real-ground-truth.json"
FIXTURES = DATA / "pages" / "fixtures"
SAMPLE_SITE_PAGES = DATA / "pages" / "sample-sites"  # <site>/<page>.json


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


def words_page(count: int) -> str:
    words = " ".join(f"word{i}" for i in range(count))
    return f"<html><body><article><p>{words}.</p></article></body></html>"


def jsonld(**fields: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def extract_lines(html: bytes) -> list[str]:
    """The lines trafilatura keeps, before our "is it an article?" decision."""
    tree = parse_html(html)
    assert tree is not None
    document = run_trafilatura(tree, "https://example.org/x")
    assert document is not None
    return clean_lines(document.text or "")
