"""``newswatch topics eval`` and ``newswatch topics test``, and the explanation behind them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import garbage_server

from crawler.cli import main
from pipelines.models import Article
from pipelines.topics import default_topics, load_topics, match_topics
from pipelines.topics.eval import Scores, load_bundled
from pipelines.topics.explain import explain
from pipelines.topics.fetch import article_from_file
from samples.localserver import SITES_DIR, serve_sites
from samples.sitefiles import PLACEHOLDER

BLADI = SITES_DIR / "bladi"
ELBIT_PAGE = "elbit-systems-inaugure-usine-benslimane,104398.html"
FLIGHTS_PAGE = "royal-air-maroc-el-al-marrakech-tel-aviv-vol-direct,104533.html"

CONFIG = """
[[topics]]
name = "pact"
recipients = ["desk@example.org"]
min_score = 4.0
[topics.groups]
morocco = ["morocco", "moroccan*"]
israel = ["israel", "israeli"]
defence = ["defence", "drone*"]
[topics.exclude]
travel = ["tourist*", "hotel*"]

[[topics]]
name = "any-mention"
recipients = ["press@example.org"]
[topics.groups]
morocco = ["morocco"]
"""


def run(*args: str, config: Path | None = None) -> Result:
    prefix = ["--config", str(config)] if config else []
    return CliRunner().invoke(main, [*prefix, "topics", *args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "nw.toml"
    path.write_text(CONFIG, "utf-8")
    return path


def write_set(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


SMALL_SET = [
    {"id": "a", "lang": "en", "relevant": True, "title": "Morocco buys Israeli drones",
     "text": "Morocco bought drones from Israel for its defence."},
    {"id": "b", "lang": "en", "relevant": True, "title": "A quiet week",
     "text": "The kingdom signed a pact with the Jewish state."},
    {"id": "c", "lang": "en", "relevant": False, "kind": "tourism",
     "title": "Israeli tourists in Morocco",
     "text": "Israeli tourists filled Moroccan hotels; one hotel flew a drone for a film."},
    {"id": "d", "lang": "fr", "relevant": False, "kind": "sport",
     "title": "Football", "text": "Le Maroc a battu le Portugal."},
]  # fmt: skip


# --- topics eval --------------------------------------------------------------------------


def test_eval_prints_exact_figures_per_language_and_lists_errors(
    tmp_path: Path, config: Path
) -> None:
    labelled = write_set(tmp_path / "set.jsonl", SMALL_SET)
    result = run("eval", str(labelled), "--topic", "pact", "--errors", config=config)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line}
    # items relevant tp fp fn precision recall f1
    assert rows["en"] == ["3", "2", "1", "0", "1", "1.000", "0.500", "0.667"]
    assert rows["fr"] == ["1", "0", "0", "0", "0", "1.000", "1.000", "1.000"]
    assert rows["all"] == ["4", "2", "1", "0", "1", "1.000", "0.500", "0.667"]
    assert "missed         b [en, relevant] A quiet week" in result.output
    assert "pact: no term of group 'morocco' in the article" in result.output
    assert "topics: pact\n" in result.output


def test_eval_fails_below_a_threshold_and_says_which(tmp_path: Path, config: Path) -> None:
    labelled = write_set(tmp_path / "set.jsonl", SMALL_SET)
    ok = run("eval", str(labelled), "--topic", "pact", "--min-precision", "1", config=config)
    assert ok.exit_code == 0
    low = run("eval", str(labelled), "--topic", "pact", "--min-recall", "0.6", config=config)
    assert low.exit_code == 1
    assert "below threshold: en: recall 0.500 < 0.6" in low.stderr
    assert "below threshold: all: recall 0.500 < 0.6" in low.stderr
    assert "fr: recall" not in low.stderr


def test_eval_json_lists_false_positives_with_their_matches(tmp_path: Path, config: Path) -> None:
    labelled = write_set(tmp_path / "set.jsonl", SMALL_SET)
    result = run("eval", str(labelled), "--json", "--topic", "any-mention", config=config)
    out = json.loads(result.output)
    assert out["topics"] == ["any-mention"]
    assert out["scores"]["all"] == {
        "items": 4, "relevant": 2, "tp": 1, "fp": 1, "fn": 1,
        "precision": 0.5, "recall": 0.5, "f1": 0.5,
    }  # fmt: skip
    wrong = {e["id"]: e for e in out["errors"]}
    assert sorted(wrong) == ["b", "c"]
    assert wrong["c"]["matches"][0]["terms"] == {"morocco": ["Morocco"]}


def test_eval_without_files_measures_the_bundled_sets_with_the_default_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no newswatch.toml here: the built-in topic is used
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    result = run("eval", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["topics"] == ["morocco-israel-defence"]
    assert out["sets"] == [
        "labelled.jsonl (bundled)",
        "holdout.jsonl (bundled)",
        "blind2.jsonl (bundled)",
        "blind3.jsonl (bundled)",
        "realworld.jsonl (bundled)",
    ]
    items = load_bundled()
    assert out["scores"]["all"]["items"] == len(items) >= 500
    assert out["scores"]["all"]["relevant"] == sum(i.relevant for i in items)
    assert out["scores"]["all"]["precision"] >= 0.95 and out["scores"]["all"]["recall"] >= 0.95
    for lang in ("ar", "en", "es", "fr", "he", "nl"):
        assert out["scores"][lang]["precision"] >= 0.9
        assert out["scores"][lang]["recall"] >= 0.9


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"id": "a", "lang": "en", "relevant": true, "text": "x"}\n{oops\n', "line 2: not valid"),
        ('{"id": "a", "lang": "en", "relevant": "yes", "text": "x"}\n', "'relevant' must be true"),
        ('{"id": "a", "relevant": true, "text": "x"}\n', "line 1: 'lang' must be a string"),
        ("\n\n", "no labelled articles"),
    ],
)
def test_eval_names_the_file_and_line_of_a_bad_labelled_set(
    tmp_path: Path, config: Path, content: str, problem: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, "utf-8")
    result = run("eval", str(bad), config=config)
    assert result.exit_code == 1
    assert f"{bad}: " in result.stderr and problem in result.stderr


def test_an_unknown_topic_name_is_an_error_listing_the_topics(config: Path) -> None:
    result = run("eval", "--topic", "nope", config=config)
    assert result.exit_code == 1
    assert "no topic named 'nope'; the topics are: pact, any-mention" in result.stderr


def test_a_missing_named_config_is_an_error_not_the_default_topic(tmp_path: Path) -> None:
    result = run("eval", config=tmp_path / "missing.toml")
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr


# --- topics test --------------------------------------------------------------------------


def test_test_explains_a_text_file_per_topic(tmp_path: Path, config: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text(
        "Morocco buys Israeli drones\n\nThe deal covers drones for Morocco's defence.\n", "utf-8"
    )
    result = run("test", str(text), config=config)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "article: Morocco buys Israeli drones" in out
    assert "topic pact: MATCH — matched: score 11 >= 4" in out
    assert "'drone*' = drones [title, lead] 3 points (capped)" in out
    assert "'defence' = defence [lead] 2 points" in out
    assert "proximity paragraph: groups meet in title and lead" in out
    assert "exclusions: none hit" in out
    assert "topic any-mention: MATCH" in out


def test_test_json_says_why_an_article_was_excluded(tmp_path: Path, config: Path) -> None:
    text = tmp_path / "tourists.txt"
    text.write_text(
        "Israeli tourists in Morocco\nTourists filled hotels; a hotel drone filmed Morocco's "
        "defence walls for Israeli visitors.\n",
        "utf-8",
    )
    result = run("test", str(text), "--json", "--topic", "pact", config=config)
    [pact] = json.loads(result.output)["topics"]
    assert pact["matched"] is False and pact["match"] is None
    assert pact["verdict"].startswith("excluded: 'travel' scores")
    [travel] = pact["exclusions"]
    assert {t["term"]: t["fields"] for t in travel["terms"]} == {
        "tourist*": {"title": 1, "lead": 1},
        "hotel*": {"lead": 2},
    }
    groups = {g["name"]: g for g in pact["groups"]}
    defence = {t["term"]: t for t in groups["defence"]["terms"]}
    assert defence["drone*"]["words"] == ["drone"] and defence["drone*"]["far"] == 0


def test_test_names_the_group_a_veto_competes_with(tmp_path: Path) -> None:
    config = tmp_path / "war.toml"
    config.write_text(
        CONFIG.split('[[topics]]\nname = "any-mention"')[0]
        + 'war = ["gaza", "ceasefire", "hostage*"]\n'
        + "[topics.vetoes]\n"
        + 'war = { against = "defence", factor = 1.5 }\n',
        "utf-8",
    )
    text = tmp_path / "war.txt"
    text.write_text(
        "Morocco and Israel\nMorocco condemned Israeli strikes on Gaza and asked for a "
        "ceasefire and the release of hostages; defence ties were not mentioned.\n",
        "utf-8",
    )
    [pact] = json.loads(run("test", str(text), "--json", config=config).output)["topics"]
    # war: Gaza 2 + ceasefire 2 + hostages 2 = 6; defence: "defence" 2, times 1.5 = 3
    assert pact["verdict"] == "excluded: 'war' scores 6, more than 1.5 × group 'defence' (3)"


def test_test_extracts_an_html_file_like_a_crawl(config: Path) -> None:
    result = run("test", str(BLADI / ELBIT_PAGE), "--json")
    out = json.loads(result.output)
    assert out["article"]["title"] == "Elbit Systems inaugure son usine de Benslimane"
    [topic] = out["topics"]
    assert topic["topic"] == "morocco-israel-defence" and topic["matched"] is True
    assert topic["match"]["score"] == topic["score"] >= topic["min_score"]
    flights = json.loads(run("test", str(BLADI / FLIGHTS_PAGE), "--json").output)
    assert flights["topics"][0]["matched"] is False


def test_test_fetches_a_url_once(tmp_path: Path) -> None:
    with serve_sites(SITES_DIR, ["bladi"]) as servers:
        url = f"{servers['bladi']}/{ELBIT_PAGE}"
        result = run("test", url, "--json")
        requests = servers.requests("bladi")
        missing = run("test", f"{servers['bladi']}/no-such-page.html")
        served = (BLADI / ELBIT_PAGE).read_bytes().replace(PLACEHOLDER, servers["bladi"].encode())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["topics"][0]["matched"] is True
    assert [(r.method, r.status, r.bytes_sent) for r in requests] == [("GET", 200, len(served))]
    assert requests[0].target.startswith("/elbit-systems-inaugure-usine-benslimane")
    assert missing.exit_code == 1
    assert "no-such-page.html: HTTP 404" in missing.stderr


def test_test_names_a_url_that_does_not_answer_in_http() -> None:
    with garbage_server() as base:
        result = CliRunner().invoke(main, ["topics", "test", f"{base}/a.html"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"newswatch: error: {base}/a.html: cannot fetch: not a valid HTTP response"
        " (BadStatusLine: 'garbage')\n"
    )


def test_a_text_file_is_a_title_line_then_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("\ufeffTitle here\n\nFirst paragraph.\n  \nSecond one.\n", "utf-8")
    article = article_from_file(path)
    assert (article.title, article.text) == ("Title here", "First paragraph.\nSecond one.")
    assert article.url == path.resolve().as_uri()


def test_test_names_a_missing_or_empty_file(tmp_path: Path, config: Path) -> None:
    gone = run("test", str(tmp_path / "gone.txt"), config=config)
    assert gone.exit_code == 2 and "gone.txt: no such file" in gone.stderr
    (tmp_path / "empty.txt").write_text("\n", "utf-8")
    empty = run("test", str(tmp_path / "empty.txt"), config=config)
    assert empty.exit_code == 2 and "empty.txt: empty file" in empty.stderr


@pytest.mark.parametrize("command", ["eval", "test", None])
def test_help_has_an_example(command: str | None) -> None:
    result = run(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"newswatch topics {command or 'eval'}" in result.output


# --- the explanation agrees with the matcher ----------------------------------------------


def test_explanations_agree_with_match_topics_on_every_labelled_article() -> None:
    [topic] = default_topics()
    for item in load_bundled():
        article = item.article()
        explained = explain(article, topic)
        matches = match_topics(article, [topic])
        assert explained.matched == bool(matches), item.id
        assert explained.verdict.startswith("matched") == explained.matched, item.id
        if matches:
            assert explained.match == matches[0]
            assert explained.score == matches[0].score
            kept = {g.name: g.score for g in explained.groups}
            assert min(kept.values()) >= topic.min_group_score


def test_an_explanation_reports_each_failed_rule() -> None:
    [topic] = load_topics(
        [
            {
                "name": "t",
                "min_score": 4.0,
                "min_group_score": 2.0,
                "groups": {"morocco": ["morocco"], "israel": ["israel"]},
            }
        ],
        path="t.toml",
    )
    filler = " ".join(["Nothing happened that day."] * 15)

    def verdict(text: str, title: str = "") -> str:
        return explain(Article(url="u", title=title, text=text), topic).verdict

    assert verdict("Morocco alone.") == "no term of group 'israel' in the article"
    assert verdict(f"Morocco.\n{filler}\nIsrael.") == (
        "the groups are never found together within one paragraph"
    )
    assert verdict(f"{filler}\nMorocco and Israel.") == "score 2 is below min_score 4"
    assert verdict(f"{filler}\nMorocco and Israel, Israel, Israel, Israel, Israel.") == (
        "group 'morocco' scores 1, below min_group_score 2"
    )


def test_scores_handle_empty_cases() -> None:
    nothing = Scores()
    assert (nothing.precision, nothing.recall, nothing.f1) == (1.0, 1.0, 1.0)
    missed = Scores(items=2, fn=2)
    assert (missed.precision, missed.recall, missed.f1) == (0.0, 0.0, 0.0)
