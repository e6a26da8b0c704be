"""How terms match, and what a match says about itself (terms, score, snippet)."""

from __future__ import annotations

import json
import pickle

import pytest
from topic_cases import article, make_topic, matches

from pipelines.topics import default_topics, load_topics, match_topics


def test_match_names_terms_per_group_in_the_articles_spelling() -> None:
    title = "Le Maroc et Israël renforcent leur coopération militaire"
    text = "Les FAR et Tsahal élargissent leur coopération au renseignement."
    [match] = match_topics(article(text, title), default_topics())
    assert "Israël" in match.terms["israel"]
    assert {"Maroc", "FAR"} <= set(match.terms["morocco"])
    assert "militaire" in match.terms["defence"]
    assert "Israël" in match.snippet


def test_snippet_is_short_and_quotes_the_paragraph_where_groups_meet() -> None:
    filler = " ".join(["Weather and markets were calm across the region that week."] * 12)
    text = f"{filler}\n{filler}\nMorocco and the IDF agreed a deal, Moroccan officials said.\n"
    [match] = match_topics(article(text), [make_topic()])
    assert "Morocco and the IDF" in match.snippet
    assert len(match.snippet) <= 202 and match.snippet.startswith("…")


def test_snippet_sets_the_title_off_with_a_dash() -> None:
    [match] = match_topics(
        article("Officials gave no details.", "Morocco and Israel"), [make_topic()]
    )
    assert match.snippet == "Morocco and Israel — Officials gave no details."


def test_match_score_and_terms_are_json_ready() -> None:
    [match] = match_topics(article("Morocco and Israel met."), [make_topic()])
    assert json.loads(json.dumps(match.to_dict()))["terms"] == {
        "morocco": ["Morocco"],
        "israel": ["Israel"],
    }
    assert match.score == 4.0  # two lead words, 2 points each


def test_only_matching_topics_are_returned_in_order() -> None:
    other = make_topic(name="other", groups={"x": ["zanzibar"]})
    both = make_topic(name="both", groups={"x": ["morocco"]})
    found = match_topics(article("Morocco and Israel met."), [make_topic(), other, both])
    assert [m.topic for m in found] == ["t", "both"]
    assert match_topics(article("Morocco and Israel met."), []) == []


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("israel", "ISRAËL", True),  # accents and case fold
        ("Israël", "israel", True),
        ("forces armées royales", "Forces Armees Royales", True),
        ("guerre électronique", "la Guerre-Électronique", True),  # any non-letter between
        ("guerre électronique", "la guerre est électronique", False),
        ("far", "farther", False),  # whole words only
        ("FAR", "the FAR said", True),  # capitals: case-sensitive acronym
        ("FAR", "so far so good", False),
        ("FAR", "Far-Maroc forum", False),
        ("IAI", "iai", False),
        ("militair*", "militaire", True),  # prefix wildcard
        ("militair*", "paramilitair", False),
        ("*afweer*", "raketafweersysteem", True),  # inside a compound
        ("*drones", "kamikazedrones", True),
        ("F-16", "F16", False),
        ("F-16", "F-16 jets", True),
        ("/barak[- ]?(8|mx)/", "the Barak-MX system", True),  # regular expression
        ("/barak[- ]?(8|mx)/", "Barakmxx", False),
        ("المغرب", "الْمَغْرِب", True),  # Arabic vowel marks fold away
        ("المغرب", "وبالمغرب", True),  # proclitics: and + in + the
        ("المغرب", "للمغرب", True),  # to + the, whose alef is not written
        ("المغرب", "مغرب", True),  # the article is optional
        ("إسرائيل", "اسرائيل", True),  # alef with or without hamza
        ("إسرائيلي*", "والإسرائيلية", True),
        ("القوات المسلحة الملكية", "للقوات المسلحه الملكيه", True),  # ta marbuta / heh
        ("عسكري", "عـسكـري", True),  # tatweel
        ("مصطفى", "مصطفي", True),  # alef maksura / yeh
        ("بريطانيا", "ريطانيا", False),  # only the text's proclitics are tried
        ("الرباط", "رباطات", False),
    ],
)
def test_term_matching(term: str, text: str, found: bool) -> None:
    topic = make_topic(groups={"g": [term]})
    assert matches(text, topic) is found


def test_weights_by_field_title_lead_and_body() -> None:
    filler = " ".join(["Nothing else happened in the region that week."] * 8)  # 64 words
    topic = make_topic(weights={"title": 10, "lead": 4, "body": 0.5}, term_cap=100.0)
    [match] = match_topics(
        article(f"Morocco and Israel met.\n{filler}\nMorocco and Israel again.", "Morocco"),
        [topic],
    )
    assert match.score == 10 + (4 + 4) + (0.5 + 0.5)


def test_several_topics_match_independently_each_with_its_recipients() -> None:
    desk, press = load_topics(
        [
            {"name": "desk", "recipients": ["desk@example.org"], "groups": {"m": ["morocco"]}},
            {"name": "press", "recipients": ["press@example.org"], "groups": {"i": ["israel"]}},
        ],
        path="n.toml",
    )
    found = match_topics(article("Israel and Morocco met."), [desk, press])
    assert [(m.topic, m.terms) for m in found] == [
        ("desk", {"m": ["Morocco"]}),
        ("press", {"i": ["Israel"]}),
    ]
    assert match_topics(article("Israel alone."), [desk, press])[0].topic == "press"
    assert (desk.recipients, press.recipients) == (["desk@example.org"], ["press@example.org"])


def test_longest_term_wins_so_a_club_name_is_not_the_army() -> None:
    topic = make_topic(exclude={"sport": ["AS FAR"]})
    assert not matches("AS FAR beat a club from Israel.", topic)
    assert matches("The FAR met Israel's army.", topic)


def test_a_term_in_two_groups_counts_for_one_the_group_that_needs_it() -> None:
    topic = make_topic(groups={"israel": ["israel", "Elbit"], "defence": ["army", "Elbit"]})
    assert match_topics(article("Elbit opened a plant."), [topic]) == []
    [match] = match_topics(article("Elbit opened a plant for the army."), [topic])
    assert match.terms == {"israel": ["Elbit"], "defence": ["army"]}
    [match] = match_topics(article("Israel's Elbit opened a plant."), [topic])
    assert match.terms == {"israel": ["Israel"], "defence": ["Elbit"]}
    assert match.why == "israel + defence: Israel, Elbit"


def test_a_full_word_cache_is_emptied_without_losing_words(monkeypatch: pytest.MonkeyPatch) -> None:
    topic = make_topic()
    monkeypatch.setattr(topic.index, "_CACHE_LIMIT", 3)
    for _ in range(3):
        assert matches("Morocco and Israel met in Rabat on Monday.", topic)
    assert len(topic.index._cache) <= 8


def test_a_topic_survives_pickling_for_a_process_pool() -> None:
    topic = make_topic()
    assert matches("Morocco and Israel met.", topic)  # fills the word cache
    copy = pickle.loads(pickle.dumps(topic))
    assert copy.index._cache == {}
    assert matches("Morocco and Israel met.", copy)
