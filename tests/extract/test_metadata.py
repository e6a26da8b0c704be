"""Metadata: the publication date and where it came from, the title, the language."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from extract_pages import PARAGRAPHS, article_page, fixture, fixture_text, jsonld, words_page

from pipelines.extract import extract_article
from pipelines.extract.metadata import (
    DETECT_SAMPLE_CHARS,
    choose_lang,
    latest_allowed,
    normalise_lang,
    plausible_date,
)
from pipelines.models import PageHints


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


def test_html_entities_in_a_jsonld_headline_are_decoded() -> None:
    head = jsonld(headline="Lynn: &#8220;We needed to win this&nbsp;game&#8221; &amp; more")
    article = extract_article(article_page(head=head), "https://example.org/x")
    assert article is not None
    assert article.title == "Lynn: “We needed to win this game” & more"


def test_language_detection_reads_a_bounded_sample() -> None:
    """A long English text with a long French tail: the sample decides, not the tail."""
    english = " ".join(PARAGRAPHS * 3)
    assert len(english) > DETECT_SAMPLE_CHARS
    french = fixture_text("fr-article.html")
    assert choose_lang("fr", english + " " + french * 5, None) == "en"
