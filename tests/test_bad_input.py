"""Bad input from the web: a broken feed, broken HTML, a wrong charset, a binary or huge
response, a slow server. Each is named in the summary and nothing else is lost."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_newswatch

from samples.localserver import SITES_DIR, SiteServers, serve_sites

BLADI = SITES_DIR / "bladi"
GOOD = "maroc-commande-deuxieme-batterie-barak-mx,104672.html"
BROKEN = "elbit-systems-inaugure-usine-benslimane,104398.html"
LATIN = "rabat-manifestation-contre-normalisation-israel,104617.html"

CONFIG = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
maildir = "maildir"
max_age_days = 0
[crawl]
allow_private_targets = ["127.0.0.1"]
download_delay = 0
autothrottle_start_delay = 0
timeout = {timeout}
[[sources]]
name = "bad"
lang = "fr"
feeds = ["{base}/feed.xml"]
sitemaps = ["{base}/sitemap.xml"]
article_pattern = ',\\d+\\.(html|png)$'
"""


def page(name: str) -> str:
    return (BLADI / name).read_text(encoding="utf-8", errors="strict")


@pytest.fixture
def bad_site(tmp_path: Path) -> Path:
    site = tmp_path / "sites" / "bad"
    site.mkdir(parents=True)
    (site / "feed.xml").write_text("<html><body><h1>Maintenance</h1></body></html>")
    shutil.copy(BLADI / GOOD, site / "good,1.html")
    broken = page(BROKEN)
    (site / "broken,2.html").write_text(broken[: broken.index("</article>")])  # no closing tags
    (site / "photo,3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (site / "huge,4.html").write_bytes(
        b"<html><body><p>" + b"x " * 6_000_000 + b"</p></body></html>"
    )
    latin = page(LATIN)
    latin = re.sub(r"<meta[^>]+charset[^>]*>", "", latin, flags=re.IGNORECASE)
    (site / "latin,5.html").write_bytes(latin.encode("cp1252", errors="xmlcharrefreplace"))
    urls = "".join(
        f"<url><loc>{{{{base}}}}/{n}</loc></url>"
        for n in ("good,1.html", "broken,2.html", "photo,3.png", "huge,4.html", "latin,5.html")
    )
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    return site.parent


@pytest.fixture
def served(bad_site: Path) -> Iterator[SiteServers]:
    with serve_sites(bad_site, ["bad"]) as servers:
        yield servers


def write_config(tmp_path: Path, base: str, timeout: float = 30) -> Path:
    path = tmp_path / "nw.toml"
    path.write_text(CONFIG.format(base=base, timeout=timeout), encoding="utf-8")
    return path


@pytest.mark.crawl
def test_each_bad_response_is_named_and_the_rest_is_stored(
    tmp_path: Path, served: SiteServers
) -> None:
    config = write_config(tmp_path, served["bad"])
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.err  # the sitemap was read: the source did not fail
    assert f"{served['bad']}/feed.xml: not a readable feed" in result.err
    conn = sqlite3.connect(tmp_path / "nw.db")
    stored = dict(conn.execute("SELECT url, text FROM articles WHERE source = 'bad'").fetchall())
    base = served["bad"]
    assert set(stored) == {f"{base}/good,1.html", f"{base}/broken,2.html", f"{base}/latin,5.html"}
    assert "Benslimane" in stored[f"{base}/broken,2.html"]
    latin = stored[f"{base}/latin,5.html"]
    assert "défilé" in latin
    assert "Ã" not in latin
    (sources,) = conn.execute("SELECT sources FROM runs").fetchone()
    errors = json.loads(sources)["bad"]["errors"]
    assert errors == {"parse": 1, "not_html": 1, "too_large": 1}


@pytest.mark.crawl
def test_a_server_too_slow_for_the_timeout_fails_its_source(
    tmp_path: Path, served: SiteServers
) -> None:
    served.set_delay("bad", 3.0)
    config = write_config(tmp_path, served["bad"], timeout=0.5)
    result = run_newswatch("run", config=config)
    assert result.code == 1
    line = next(x for x in result.out.splitlines() if x.startswith("bad"))
    assert "FAILED" in line and "timeout 2" in line
