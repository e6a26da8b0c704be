"""``newswatch stories list / show / eval`` and the story line of ``topics test``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from story_helpers import MINI_SET, labelled_store, mini_rows

import pipelines.extract  # noqa: F401  (imported with the others: its import warns once)
from crawler.cli import main
from pipelines.config.stories import StoriesConfig
from pipelines.stories import cluster_new

ROWS = mini_rows()


def dataset(tmp_path: Path) -> Path:
    config = tmp_path / "newswatch.toml"
    config.write_text('[store]\npath = "nw.db"\n', encoding="utf-8")
    with labelled_store(tmp_path / "nw.db") as labelled:
        for label in ("m01-a01", "m01-a02", "m01-a04", "m02-a01", "m02-a02"):
            labelled.add(ROWS[label])
        cluster_new(labelled.store, StoriesConfig())
    return config


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_list_and_show_say_what_joined_and_why(tmp_path: Path) -> None:
    config = dataset(tmp_path)
    assert run(config, "stories", "list").startswith("no stories")  # all from 2021-2022
    listed = run(config, "stories", "list", "--since", "5000d", "--relevant")
    assert len(listed.splitlines()) == 2
    assert ROWS["m01-a01"]["title"] in listed and "ar,fr" in listed
    out = run(config, "stories", "list", "--since", "5000d", "--json")
    rows = [json.loads(x) for x in out.splitlines()]
    gantz = next(r for r in rows if r["title"] == ROWS["m01-a01"]["title"])
    shown = run(config, "stories", "show", str(gantz["id"]))
    assert "3 articles, 3 sources, languages ar, fr" in shown
    assert "started the story" in shown and "same text as [1]" in shown
    assert "entities: " in shown and "gantz" in shown and "dates: 2021-11-24" in shown


def test_show_an_unknown_story_is_one_line(tmp_path: Path) -> None:
    config = dataset(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "stories", "show", "999"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "newswatch: usage error: no story 999; `newswatch stories list` shows them"
    )


def test_eval_prints_pairwise_and_bcubed_figures(tmp_path: Path) -> None:
    config = dataset(tmp_path)
    out = run(config, "stories", "eval", "--set", str(MINI_SET))
    assert out.startswith("11 articles, 4 labelled stories")
    assert "pairwise  precision" in out and "BCubed" in out
    figures = json.loads(run(config, "stories", "eval", "--set", str(MINI_SET), "--json"))
    assert 0 < figures["bcubed_f1"] <= 1


def test_eval_of_a_bad_set_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "story": "s"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["stories", "eval", "--set", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1: missing lang, title, text" in result.output


def test_topics_test_says_which_story_an_article_would_join(tmp_path: Path) -> None:
    config = dataset(tmp_path)
    page = tmp_path / "article.html"
    paragraphs = [
        "Israeli Defence Minister Benny Gantz and Abdeltif Loudiyi, the Moroccan minister in"
        " charge of the National Defence Administration, signed a memorandum of understanding"
        " in Rabat on Wednesday, November 24, 2021.",
        "The agreement covers intelligence sharing, cooperation between the defence industries"
        " of both countries, joint exercises and military training for officers.",
        "Gantz also met the inspector general of the Royal Armed Forces during the first"
        " official visit of an Israeli defence minister to Morocco since ties were renewed.",
    ]
    page.write_text(
        '<html lang="en"><head><meta charset="utf-8"><title>Gantz signs pact in Rabat</title>'
        '<meta property="article:published_time" content="2021-11-25T08:00:00+00:00"></head>'
        "<body><article><h1>Gantz signs defence pact in Rabat</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article></body></html>",
        encoding="utf-8",
    )
    out = run(config, "topics", "test", str(page))
    assert "story: would join story 1 (" + ROWS["m01-a01"]["title"] in out
    assert "gantz" in out
