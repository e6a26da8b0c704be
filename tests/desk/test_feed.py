"""The Atom feed of a topic's matches: valid (feedparser reads it back), ids the same on
every run, the latest first; and ``newswatch feed`` writes it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import feedparser
from click.testing import CliRunner
from items import add_alert

from crawler.cli import main
from pipelines.config import parse_config
from pipelines.feed import build_feed
from pipelines.store import open_store

TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
[[sources]]
name = "bladi"
title = "Bladi.net"
feeds = ["https://news.example.org/feed"]
[[topics]]
name = "defence"
title = "Defence & <co>"
[[topics]]
name = "cyber"
"""


def test_the_feed_is_valid_atom_with_stable_ids(tmp_path: Path) -> None:
    path = tmp_path / "nw.toml"
    path.write_text(TOML, "utf-8")
    cfg = parse_config(tomllib.loads(TOML), path)
    with open_store(cfg.store_path) as store:
        for n in (1, 2, 3):
            add_alert(store, n)
        first = build_feed(store, cfg, "defence")
        add_alert(store, 4)
        second = build_feed(store, cfg, "defence")

    one, two = feedparser.parse(first), feedparser.parse(second)
    assert not one.bozo and not two.bozo
    assert one.feed.title == "newswatch: Defence & <co>"
    assert [e.title for e in one.entries] == ["Article 3", "Article 2", "Article 1"]
    ids = {e.title: e.id for e in one.entries}
    assert all(i.startswith("tag:newswatch.invalid,") for i in ids.values())
    assert {e.title: e.id for e in two.entries if e.title in ids} == ids  # stable
    assert two.entries[0].title == "Article 4" and len(set(ids.values())) == 3
    assert one.entries[0].link == "https://news.example.org/a3"
    assert one.entries[0].author.startswith("Bladi.net (news.example.org)")
    assert "Why: Defence: drones" in one.entries[0].summary


def test_newswatch_feed_writes_the_file_and_names_an_unknown_topic(tmp_path: Path) -> None:
    path = tmp_path / "nw.toml"
    path.write_text(TOML, "utf-8")
    with open_store(tmp_path / "nw.db") as store:
        add_alert(store, 1)
    out = tmp_path / "matches.xml"
    runner = CliRunner()
    ok = runner.invoke(main, ["--config", str(path), "feed", "--topic", "defence", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert feedparser.parse(out.read_bytes()).entries[0].title == "Article 1"

    bad = runner.invoke(main, ["--config", str(path), "feed", "--topic", "nope"])
    assert bad.exit_code == 2
    assert "no topic named 'nope' (topics: defence, cyber)" in bad.output
    several = runner.invoke(main, ["--config", str(path), "feed"])
    assert several.exit_code == 2 and "choose one with --topic" in several.output
