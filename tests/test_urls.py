from __future__ import annotations

import pytest

from pipelines.urls import canonical_url, url_key


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.bladi.net/israel-maroc-defense,99.html?utm_source=rss&utm_medium=feed",
        "https://bladi.net/israel-maroc-defense,99.html#comments",
        "http://WWW.BLADI.NET:80/israel-maroc-defense,99.html?fbclid=abc",
        "https://www.bladi.net:443/israel-maroc-defense,99.html?gclid=1&utm_campaign=x",
        "https://www.bladi.net/amp/israel-maroc-defense,99.html",
    ],
)
def test_variants_share_one_key(variant: str) -> None:
    assert url_key(variant) == url_key("https://www.bladi.net/israel-maroc-defense,99.html")


def test_amp_variants() -> None:
    assert canonical_url("https://site.org/story/amp/") == "https://site.org/story/"
    assert canonical_url("https://site.org/story.amp.html") == "https://site.org/story.html"
    assert canonical_url("https://site.org/story/?amp=1") == "https://site.org/story/"
    assert canonical_url("https://amp.site.org/story/") == "https://site.org/story/"
    cached = "https://site-org.cdn.ampproject.org/c/s/www.site.org/story/?amp=1"
    assert canonical_url(cached) == "https://www.site.org/story/"
    assert url_key(cached) == url_key("https://site.org/story/")
    assert canonical_url("https://amp.org/story/") == "https://amp.org/story/"  # a site


def test_meaningful_query_parameters_are_kept() -> None:
    assert url_key("https://site.org/?p=12") != url_key("https://site.org/?p=13")
    assert (
        canonical_url("https://site.org/spip.php?page=backend")
        == "https://site.org/spip.php?page=backend"
    )


def test_canonical_url_drops_fragment_and_tracking_only() -> None:
    assert (
        canonical_url("https://Site.org/a/b?id=3&utm_source=x#top") == "https://site.org/a/b?id=3"
    )
