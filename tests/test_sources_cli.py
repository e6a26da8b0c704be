"""``newswatch sources status`` and ``sources check`` against the sample sites on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import run_newswatch

from crawler.cli import main
from samples.localserver import SiteServers

pytest_plugins = ["smtpserver"]  # closed_port


def runs_sources(config: Path) -> list[dict[str, dict[str, Any]]]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT sources FROM runs ORDER BY id")]
    finally:
        conn.close()


@pytest.mark.crawl
def test_status_sums_the_latest_passes(config_path: Path, servers: SiteServers) -> None:
    assert run_newswatch("run", "--no-send", config=config_path).code == 0
    assert run_newswatch("run", "--no-send", config=config_path).code == 0
    first, second = runs_sources(config_path)
    result = run_newswatch("sources", "status", "--json", config=config_path)
    assert result.code == 0, result.err
    rows = {r["source"]: r for r in map(json.loads, result.out.splitlines())}
    assert list(rows) == ["bladi", "bladna", "trends"]
    for name, row in rows.items():
        assert row["passes"] == 2 and row["state"] == "ok"
        for key in ("requests", "bytes", "new", "not_modified"):
            assert row[key] == first[name][key] + second[name][key], (name, key)
    assert rows["bladi"]["not_modified"] > 0  # the second pass asked conditionally
    latest = run_newswatch("sources", "status", "--passes", "1", "--json", config=config_path)
    one = {r["source"]: r for r in map(json.loads, latest.out.splitlines())}
    assert one["bladi"]["requests"] == second["bladi"]["requests"]
    table = run_newswatch("sources", "status", config=config_path).out.splitlines()
    assert table[0].split() == [
        "source",
        "state",
        "passes",
        "requests",
        "304",
        "bytes",
        "new",
        "dup",
        "relevant",
        "errors",
    ]
    assert [line.split()[0] for line in table[1:]] == ["bladi", "bladna", "trends"]


@pytest.mark.crawl
def test_check_reads_every_discovery_page_once_and_stores_nothing(
    config_path: Path, servers: SiteServers
) -> None:
    result = run_newswatch("sources", "check", "bladi", "--json", config=config_path)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    base = servers["bladi"]
    kinds = {d["url"].removeprefix(base): (d["via"], d["kind"]) for d in report["discovery"]}
    assert kinds == {
        "/spip.php?page=backend": ("feed", "rss20"),
        "/sitemap.xml": ("sitemap", "urlset"),
        "/maroc.html": ("section", "html"),
        # Pagination is followed too, to show that the next pages are found.
        "/maroc.html?debut_suite_rubrique=12": ("section", "html"),
        "/maroc.html?debut_suite_rubrique=24": ("section", "html"),
    }
    feed = next(d for d in report["discovery"] if d["via"] == "feed")
    assert feed["entries"] == feed["matched"] > 0
    article = report["article"]
    assert article["article"] is True and article["title"] and article["words"] > 50
    assert article["lang"] == "fr" and article["date_source"]
    assert len(article["start"]) <= 300
    targets = sorted(r.target for r in servers.requests("bladi"))
    assert targets == sorted(["/robots.txt", report["article_url"].removeprefix(base), *kinds])
    assert not (config_path.parent / "newswatch.db").exists()

    text = run_newswatch("sources", "check", "bladi", config=config_path)
    assert text.code == 0
    assert "rss20" in text.out and "article URL(s)" in text.out and "title:" in text.out


@pytest.mark.crawl
def test_check_exits_1_when_nothing_parses(
    tmp_path: Path, site_root: Path, servers: SiteServers, closed_port: int
) -> None:
    base = servers["bladi"]
    (site_root / "bladi" / "robots.txt").write_text("User-agent: *\nDisallow: /ecrire/\n")
    config = tmp_path / "broken.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\n"
        'allow_private_targets = ["127.0.0.1"]\n[[sources]]\nname = "x"\n'
        f'feeds = ["{base}/contact.html", "http://127.0.0.1:{closed_port}/feed"]\n'
        f'sitemaps = ["{base}/no-such-sitemap.xml"]\n',
        encoding="utf-8",
    )
    result = run_newswatch("sources", "check", config=config)
    assert result.code == 1
    assert "ERROR parse" in result.out and "ERROR http_404" in result.out
    assert "ERROR refused" in result.out and "nothing parsed" in result.out


@pytest.mark.crawl
@pytest.mark.parametrize(
    ("culprit", "expected"),
    [
        ("feed", "feed {base}/broken-feed.xml: not a readable feed: "),
        ("down", "feed http://127.0.0.1:{port}/feed: connection refused"),
        ("pattern", "article_pattern '/no-such-section/' matched none of the "),
    ],
)
def test_check_names_the_culprit_and_exits_1(
    tmp_path: Path,
    site_root: Path,
    servers: SiteServers,
    closed_port: int,
    culprit: str,
    expected: str,
) -> None:
    base = servers["bladi"]
    (site_root / "bladi" / "broken-feed.xml").write_text(
        '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Bladi</title>\n'
        "<item><title>Cut off before its link",
        encoding="utf-8",
    )
    source = {
        "feed": f'feeds = ["{base}/broken-feed.xml"]\nstart_urls = ["{base}/maroc.html"]',
        "down": f'feeds = ["http://127.0.0.1:{closed_port}/feed"]',
        "pattern": f'feeds = ["{base}/spip.php?page=backend"]\n'
        "article_pattern = '/no-such-section/'",
    }[culprit]
    config = tmp_path / "check.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\n"
        'allow_private_targets = ["127.0.0.1"]\n'
        f'[[sources]]\nname = "x"\n{source}\n',
        encoding="utf-8",
    )
    result = run_newswatch("sources", "check", "x", config=config)
    assert result.code == 1, result.out + result.err
    message = expected.format(base=base, port=closed_port)
    assert f"PROBLEM: {message}" in result.out
    assert f"newswatch: ERROR x: {message}" in result.err
    as_json = json.loads(run_newswatch("sources", "check", "x", "--json", config=config).out)
    assert any(p.startswith(message) for p in as_json["problems"])


@pytest.mark.parametrize("command", [["status"], ["check"]])
def test_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(main, ["sources", *command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "newswatch sources " + command[0] in result.output


@pytest.mark.crawl
def test_check_says_why_no_article_could_be_shown(
    tmp_path: Path, site_root: Path, servers: SiteServers
) -> None:
    base = servers["bladi"]
    (site_root / "bladi" / "one-item.xml").write_text(
        '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Bladi</title>\n'
        f"<item><title>Gone</title><link>{base}/gone-since-yesterday,1.html</link></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    config = tmp_path / "check.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\n"
        'allow_private_targets = ["127.0.0.1"]\n'
        f'[[sources]]\nname = "x"\nfeeds = ["{base}/one-item.xml"]\n',
        encoding="utf-8",
    )
    result = run_newswatch("sources", "check", "x", config=config)
    assert result.code == 0, result.out + result.err  # the source itself works
    assert f"no article fetched: {base}/gone-since-yesterday,1.html: HTTP 404" in result.out
