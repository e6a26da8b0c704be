"""Topic tables in the configuration: errors name the file, the key and the topic."""

from __future__ import annotations

from typing import Any

import pytest
from topic_cases import SEEDS, make_topic

from pipelines.errors import ConfigError
from pipelines.models import Article
from pipelines.topics import default_topics, load_topics, match_topics

GOOD: dict[str, Any] = {
    "name": "morocco-israel-defence",
    "groups": {"morocco": ["maroc"], "israel": ["israel", "IDF", "tsahal", "Elbit"]},
}


def broken(**change: Any) -> list[dict[str, Any]]:
    """Two topics: a good one, then a copy with ``change`` applied (None deletes a key)."""
    second = {**GOOD, "name": "second"}
    for key, value in change.items():
        if value is None:
            second.pop(key, None)
        else:
            second[key] = value
    return [GOOD, second]


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        (
            broken(groups={"israel": ["israel", "IDF", "x", "/Barak[/"]}),
            "topics[1].groups.israel[3]",
            "bad regular expression",
        ),
        (broken(groups={"israel": ["/(?i)idf/"]}), "topics[1].groups.israel[0]", "regular"),
        (broken(groups={"israel": ["/a?/"]}), "topics[1].groups.israel[0]", "empty text"),
        (broken(groups={"israel": ["israel", "mil*tair"]}), "topics[1].groups.israel[1]", "'*'"),
        (broken(groups={"israel": ["*"]}), "topics[1].groups.israel[0]", "'*'"),
        (broken(groups={"israel": ["israel", " "]}), "topics[1].groups.israel[1]", "empty term"),
        (broken(groups={"israel": ["israel", 7]}), "topics[1].groups.israel[1]", "an integer"),
        (broken(groups={"israel": ["--"]}), "topics[1].groups.israel[0]", "no letters"),
        (broken(groups={"israel": []}), "topics[1].groups.israel", "non-empty list"),
        (broken(groups={"israel": "israel"}), "topics[1].groups.israel", "non-empty list"),
        (broken(groups={}), "topics[1].groups", "at least one group"),
        (broken(exclude={"sport": [True]}), "topics[1].exclude.sport[0]", "a boolean"),
        (broken(exclude=["sport"]), "topics[1].exclude", "table of term lists"),
        (broken(colour="red"), "topics[1].colour", "unknown key"),
        (broken(min_score="high"), "topics[1].min_score", "expected a number"),
        (broken(min_score=True), "topics[1].min_score", "expected a number"),
        (broken(min_score=-1), "topics[1].min_score", "at least 0"),
        (broken(min_group_score="3"), "topics[1].min_group_score", "expected a number"),
        (broken(term_cap=0), "topics[1].term_cap", "greater than 0"),
        (broken(proximity="sentence"), "topics[1].proximity", '"paragraph"'),
        (broken(proximity=0), "topics[1].proximity", "number of words"),
        (broken(weights={"title": 3, "footer": 1}), "topics[1].weights.footer", "unknown"),
        (broken(weights={"lead": "2"}), "topics[1].weights.lead", "expected a number"),
        (broken(recipients="a@example.org"), "topics[1].recipients", "list of addresses"),
        (broken(recipients=["a@example.org", "bob"]), "topics[1].recipients[1]", "email"),
        (broken(title=""), "topics[1].title", "non-empty string"),
        (broken(name="morocco-israel-defence"), "topics[1].name", "duplicate"),
        (broken(vetoes=["war"]), "topics[1].vetoes", "expected a table"),
        (broken(vetoes={"war": {}}), "topics[1].vetoes.war", "not an exclude list"),
        (
            broken(exclude={"war": ["gaza"]}, vetoes={"war": 1.5}),
            "topics[1].vetoes.war",
            "expected a table",
        ),
        (
            broken(exclude={"war": ["gaza"]}, vetoes={"war": {"against": "army"}}),
            "topics[1].vetoes.war.against",
            "not a group",
        ),
        (
            broken(exclude={"war": ["gaza"]}, vetoes={"war": {"factor": 0}}),
            "topics[1].vetoes.war.factor",
            "greater than 0",
        ),
        (
            broken(exclude={"war": ["gaza"]}, vetoes={"war": {"by": 2}}),
            "topics[1].vetoes.war.by",
            "unknown key",
        ),
    ],
)
def test_config_errors_name_the_file_the_key_and_the_topic(
    raw: list[dict[str, Any]], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_topics(raw, path="newswatch.toml")
    message = str(caught.value)
    assert message.startswith(f"newswatch.toml: {key}: "), message
    assert problem in message
    assert caught.value.key == key
    if "duplicate" not in problem:
        assert "topic 'second'" in message


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"name": "x"}, "topics"),
        ([["not", "a", "table"]], "topics[0]"),
        ([{"groups": {"g": ["x"]}}], "topics[0].name"),
        ([{"name": "  ", "groups": {"g": ["x"]}}], "topics[0].name"),
    ],
)
def test_config_errors_before_the_topic_has_a_name(raw: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_topics(raw, path="newswatch.toml")
    assert caught.value.key == key


def test_a_valid_topic_keeps_its_settings() -> None:
    topic = make_topic(
        title="Morocco and Israel",
        recipients=["a@example.org"],
        min_score=2,
        proximity=30,
        weights={"title": 5},
        term_cap=4,
    )
    assert (topic.name, topic.title, topic.recipients) == (
        "t",
        "Morocco and Israel",
        ["a@example.org"],
    )
    assert (topic.min_score, topic.proximity, topic.term_cap) == (2.0, 30, 4.0)
    assert (topic.weights.title, topic.weights.lead, topic.weights.body) == (5.0, 2.0, 1.0)
    assert topic.groups == ("morocco", "israel") and topic.exclude == ()


def test_a_topic_without_groups_borrows_the_built_in_rules() -> None:
    (mine,) = load_topics([{"name": "mine", "recipients": ["desk@example.org"]}], path="n.toml")
    (builtin,) = default_topics()
    assert (mine.name, mine.recipients) == ("mine", ["desk@example.org"])
    assert (mine.groups, mine.min_score) == (builtin.groups, builtin.min_score)
    text = (SEEDS / "001_62e89c347e542044.txt").read_text(encoding="utf-8")
    seed = Article(url="seed:x", title=None, text=text)
    assert [m.topic for m in match_topics(seed, [mine])] == ["mine"]
