"""Headless Chromium on `newswatch serve` and on report.html (DOM checks, screenshots in
tests/artifacts/)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import evaluate, require_chromium
from test_readme_use import free_port, serving

pytestmark = pytest.mark.crawl


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo dataset (a whole pass over the sample sites); yields its config file."""
    require_chromium()
    out = tmp_path_factory.mktemp("browser") / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSWATCH_SMTP_URL",)}
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "demo", "--port", "0", "--output", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield out / "newswatch.toml"


def relevant_rows(config: Path) -> list[tuple[str, str]]:
    """(day, title) of the demo's relevant items, as the view gives them."""
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        return conn.execute("select day, title from relevant_articles order by id").fetchall()
    finally:
        conn.close()


def test_datasette_lists_articles_not_shingles_and_runs_the_canned_query(demo: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    cmd = [sys.executable, "-m", "crawler", "serve", "--config", str(demo), "--port", str(port)]
    with serving(cmd, demo.parent, env, port):
        home = evaluate(
            f"http://127.0.0.1:{port}/",
            "[...document.querySelectorAll('a')].map(a => a.textContent.trim())",
            screenshot="serve-home.png",
        )
        assert "Articles" in home or "articles" in home, home
        assert not any("shingles" in t or "_migrations" in t or "seen_urls" in t for t in home)
        titles = evaluate(
            f"http://127.0.0.1:{port}/newswatch/new_relevant_this_week",
            "[...document.querySelectorAll('table.rows-and-columns tbody tr td.col-title')]"
            ".map(td => td.textContent.trim())",
            screenshot="serve-new-relevant.png",
        )
        expected = relevant_rows(demo)
        assert len(expected) >= 3
        assert sorted(titles) == sorted(t for _, t in expected)
        first = evaluate(
            f"http://127.0.0.1:{port}/newswatch/articles",
            "document.querySelector('table.rows-and-columns tbody tr td.col-source')"
            ".textContent.trim()",
            screenshot="serve-articles.png",
        )
        assert first != "seed"  # newest first: the seed rows (no date) come last


def test_the_report_shows_a_data_point_for_every_day_of_the_demo(demo: Path) -> None:
    days = sorted({day for day, _ in relevant_rows(demo)})
    report = demo.parent / "report.html"
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_CONFIG"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler",
            "report",
            "--config",
            str(demo),
            "--since",
            days[0],
            "-o",
            str(report),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    script = """(() => {
      const chart = id => [...document.querySelectorAll(`#${id} g.day`)].map(g => ({
        day: g.dataset.day,
        bars: [...g.querySelectorAll('rect.bar')].map(r => r.getBoundingClientRect().height),
      }));
      return {
        lang: chart('by-lang'), source: chart('by-source'),
        legend: [...document.querySelectorAll('.legend li')].map(li => li.textContent),
        scores: document.querySelectorAll('table.scores tr').length,
        health: document.querySelectorAll('table.sources tr').length,
        requests: performance.getEntriesByType('resource').length,
      };
    })()"""
    seen = evaluate(report, script, screenshot="report.png")
    for chart in ("lang", "source"):
        drawn = {p["day"]: p["bars"] for p in seen[chart]}
        assert list(drawn)[0] == days[0]
        for day in days:
            assert drawn[day] and all(h > 0 for h in drawn[day]), (chart, day, drawn[day])
    assert {"en", "fr", "nl", "bladi", "bladna", "trends"} <= set(seen["legend"])
    assert seen["scores"] > 1 and seen["health"] == 4  # header + three sources
    assert seen["requests"] == 0  # self-contained: nothing fetched
