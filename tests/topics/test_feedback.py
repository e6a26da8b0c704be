"""The analyst's labels: ``newswatch feedback``, ``topics eval --feedback``, ``topics suggest``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli import main
from pipelines.store import open_store

CONFIG = """
[store]
path = "nw.db"

[[topics]]
name = "pact"
min_score = 4.0
[topics.groups]
morocco = ["morocco", "moroccan*"]
israel = ["israel", "israeli"]
defence = ["defence", "drone*"]
"""

ARTICLES = [
    # matched, and the analyst agrees
    ("https://s.example/1", "Morocco buys Israeli drones", "Morocco bought drones from Israel."),
    # matched, but a drone show is not defence: the analyst says no
    (
        "https://s.example/2",
        "Drone show lights up festival",
        "A festival in Morocco hired an Israeli drone show for its opening night.",
    ),
    # missed: the analyst says it is a deal ("zionist" is how the outlet names Israel)
    (
        "https://s.example/3",
        "Morocco buys zionist drones",
        "Morocco signed a defence contract for zionist drones, the zionist press said.",
    ),
]


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "nw.toml"
    path.write_text(CONFIG, "utf-8")
    with open_store(tmp_path / "nw.db") as store:
        for url, title, text in ARTICLES:
            store.insert_article(
                {
                    "url": url,
                    "url_key": url.removeprefix("https://"),
                    "source": "s",
                    "lang": "en",
                    "title": title,
                    "text": text,
                    "fetched_at": "2026-12-01T00:00:00+00:00",
                    "topics": json.dumps([{"topic": "pact"}]) if url[-1] != "3" else "[]",
                }
            )
    return path


def test_feedback_stores_the_label_and_a_new_one_replaces_it(config: Path) -> None:
    first = run(config, "feedback", "2", "--relevant")
    assert first.exit_code == 0 and first.output == "article 2: relevant for topic pact\n"
    again = run(config, "feedback", "https://s.example/2", "--not-relevant", "--why", "a show")
    assert again.output == "article 2: not relevant for topic pact (replacing the earlier label)\n"
    with open_store(config.parent / "nw.db") as store:
        [label] = store.feedback()
    assert (label.article_id, label.topic, label.relevant, label.why) == (
        2,
        "pact",
        False,
        "a show",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feedback", "9", "--relevant"], "no stored article '9'"),
        (["feedback", "1"], "say --relevant or --not-relevant"),
        (["feedback", "1", "--relevant", "--topic", "nope"], "no topic named 'nope'"),
    ],
)
def test_feedback_errors_are_one_line(config: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_read_only_commands_create_no_database(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text(CONFIG, "utf-8")
    for args in (
        ["topics", "eval", "--feedback"],
        ["topics", "suggest"],
        ["feedback", "1", "--relevant"],
    ):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        assert result.exit_code == 2 and "no database at" in result.output
    assert not (tmp_path / "nw.db").exists()


def test_eval_feedback_measures_the_rules_on_the_labels(config: Path) -> None:
    assert (
        "no feedback yet"
        in CliRunner()
        .invoke(main, ["--config", str(config), "topics", "eval", "--feedback"])
        .output
    )
    for ref, label in (("1", "--relevant"), ("2", "--not-relevant"), ("3", "--relevant")):
        run(config, "feedback", ref, label)
    out = json.loads(run(config, "topics", "eval", "--feedback", "--json").output)
    assert out["sets"] == ["feedback"]
    assert {k: out["scores"]["all"][k] for k in ("items", "tp", "fp", "fn")} == {
        "items": 3,
        "tp": 1,
        "fp": 1,
        "fn": 1,
    }
    assert {e["id"] for e in out["errors"]} == {"feedback:2", "feedback:3"}


def test_suggest_lists_changes_measured_on_all_labelled_data_and_applies_none(config: Path) -> None:
    for ref, label in (("1", "--relevant"), ("2", "--not-relevant"), ("3", "--relevant")):
        run(config, "feedback", ref, label)
    before = config.read_text("utf-8")
    out = json.loads(run(config, "topics", "suggest", "--json").output)
    changes = {s["change"]: s for s in out["suggestions"]}
    assert out["labels"] == 3 and out["before"]["items"] > 300  # shipped sets + labels
    assert changes['add "zionist" to groups.israel']["fixes"] == 1
    assert changes['add "festival" to exclude.feedback']["fixes"] == 1
    best = out["suggestions"][0]
    assert best["after"]["items"] == out["before"]["items"]
    assert config.read_text("utf-8") == before  # nothing applied
    text = run(config, "topics", "suggest", "--limit", "2").output
    assert "nothing was changed" in text and text.count(": fixes ") == 2
