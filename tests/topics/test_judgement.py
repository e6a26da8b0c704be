"""Topic judgement on real coverage: Arabic and Hebrew spelling, languages, one entity,
exclusions against the core, reactions and the reason of a match (issue: docs/topics.md)."""

from __future__ import annotations

from typing import Any

import pytest
from topic_cases import article, make_topic, matches

from pipelines.errors import ConfigError
from pipelines.models import Article
from pipelines.topics import default_topics, load_topics, match_topics
from pipelines.topics.rules import read_document

ELBIT = make_topic(groups={"israel": ["إلبيت"], "defence": ["إلبيت", "سلاح"]})


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("شركة إلبيت الإسرائيلية", True),
        ("وإلبيت تبيع السلاح", True),  # a proclitic before the name is still the name
        ("ألبيت سيستمز", True),  # hamza above or below: the same name
        ("البيت الأبيض يرحب بالاتفاق", False),  # the White House
        ("مسيحيو بيت لحم يحتفلون", False),  # Bethlehem
        ("محبة آل البيت في فاس", False),  # the Prophet's family
        ("والبيت مغلق", False),  # "and the house"
    ],
)
def test_arabic_folding_never_turns_a_name_into_the_word_for_house(text: str, found: bool) -> None:
    topic = make_topic(groups={"israel": ["إلبيت"]})
    assert matches(text, topic) is found


def test_the_default_topic_does_not_read_the_white_house_as_elbit() -> None:
    text = (
        "رحب البيت الأبيض باستئناف العلاقات بين المغرب وإسرائيل، وقال البيت الأبيض إن الخطوة "
        "ستعزز الاستقرار.\nوأكد البيت الأبيض دعمه للمغرب."
    )
    assert not matches(text, default_topics()[0], "البيت الأبيض يرحب بقرار المغرب وإسرائيل")


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("מרוקו", "ישראל ומרוקו חתמו"),  # conjunction
        ("מרוקו", "הגיע למרוקו אתמול"),  # preposition
        ("תעשייה אווירית", "מהתעשייה האווירית נמסר"),  # preposition + article, both words
        ('צה"ל', "דובר צה״ל אמר"),  # gershayim written as ״ or "
        ("אלג'יריה", "שר החוץ של אלג׳יריה"),  # geresh written as ׳ or '
        ('כטב"מ*', "כטב״מים של אלביט"),
        ("גנץ", "השר גנץ"),  # final letters: the term is unified as the text is
        ("מרוקו", "מָרוֹקוֹ"),  # vowel points
    ],
)
def test_hebrew_prefixes_final_letters_and_acronyms(term: str, text: str) -> None:
    assert matches(text, make_topic(groups={"x": [term]}))


def test_a_hebrew_prefix_is_only_stripped_towards_a_known_term() -> None:
    topic = make_topic(groups={"x": ["ברק MX"]})
    assert not matches("הברק האיר את השמיים", topic)  # "the lightning", not Barak
    assert matches("מערכת ברק MX", topic)


def test_the_default_topic_reads_an_israeli_outlet_in_hebrew() -> None:
    title = 'הרמטכ"ל כוכבי נחת במרוקו לביקור רשמי ראשון'
    text = (
        "ראש המטה הכללי נחת הערב במרוקו. הוא ייפגש עם המפקח הכללי של צבא מרוקו ויבקר "
        "בבסיסי הצבא.\nבצה״ל נמסר כי מטרת הביקור היא הרחבת שיתוף הפעולה הצבאי."
    )
    [match] = match_topics(Article(url="x", title=title, text=text, lang="he"), default_topics())
    assert match.kind == "match"
    assert match.why.startswith("Morocco + Israel + defence: ")


def test_a_term_scoped_to_a_language_stays_in_it() -> None:
    topic = make_topic(groups={"org": ["institute"], "defence": ["tank @en", "char @fr"]})
    french = "Un institute parisien, le think tank de la défense, publie une note sur les blindés."
    english = "The institute said the new tank would be delivered next year to the army."
    assert not matches(french, topic)
    assert matches(english, topic)
    # a headline too short to tell takes the article's language, or one it shows a word of
    assert matches("Un rapport sur les blindés.", topic, title="Institute: the tank arrives")


def test_a_language_table_scopes_its_terms_and_the_suffix_overrides_one() -> None:
    topic = make_topic(
        groups={"org": ["institute"], "defence": {"nl": ["leger"], "any": ["army @en"]}}
    )
    assert matches(
        "Het institute zegt dat het leger van het land oefent met de nieuwe tanks.", topic
    )
    assert not matches("Un institute dit que le drone le plus léger est celui de l'armée.", topic)
    assert matches("The institute says the army is ready for the drill.", topic)


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        ({"groups": {"g": {"english": ["x"]}}}, "topics[0].groups.g.english", "bad language"),
        ({"groups": {"g": ["x @e1"]}}, "topics[0].groups.g[0]", "bad language"),
        ({"groups": {"g": ["x"]}, "reactions": "mail"}, "topics[0].reactions", "expected one of"),
        ({"groups": {"g": ["x"]}, "labels": {"h": "H"}}, "topics[0].labels.h", "not a group"),
        ({"groups": {"g": ["x"]}, "reaction": {"who": ["x"]}}, "topics[0].reaction.who", "unknown"),
        (
            {"groups": {"g": ["x"]}, "exclude": {"e": ["y"]}, "vetoes": {"e": {"against": "h"}}},
            "topics[0].vetoes.e.against",
            "'core', 'weakest' or one of g",
        ),
    ],
)
def test_new_settings_are_checked_and_errors_name_the_key(
    raw: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_topics([{"name": "t", **raw}], path="nw.toml")
    assert key in str(caught.value) and problem in str(caught.value)


def test_a_system_name_alone_is_not_evidence_for_two_groups() -> None:
    topic = make_topic(
        groups={
            "morocco": ["morocco"],
            "israel": ["israel", "Barak MX", "IAI"],
            "defence": ["army", "Barak MX", "IAI"],
        }
    )
    # one name: one group; the article lacks the other
    assert not matches("Morocco's football team beat Barak MX in a friendly.", topic)
    # two names: one for each group, the weaker first
    [match] = match_topics(article("Morocco switched on its Barak MX, built by IAI."), [topic])
    assert match.terms == {"morocco": ["Morocco"], "israel": ["Barak MX"], "defence": ["IAI"]}


def test_an_exclusion_is_weighed_against_the_core_not_the_weakest_group() -> None:
    groups = {"morocco": ["morocco"], "israel": ["israeli", "israel"], "defence": ["drone*"]}
    culture = {"culture": ["synagogue*", "jewish"]}
    visit = (
        "Israeli defence chief visits Morocco to buy drones. He met Israeli and drone makers, "
        "saw drone plants and Israeli drones, then prayed at a synagogue with the Jewish "
        "community."
    )
    # all in the lead, 2 points a word: morocco 2, israel 6, defence 8, so the core is
    # 5.33; culture 4 stays below it, though it outweighs the weakest group
    assert matches(visit, make_topic(groups=groups, exclude=culture, term_cap=10.0))
    weakest = {"culture": {"against": "weakest"}}
    assert not matches(
        visit, make_topic(groups=groups, exclude=culture, term_cap=10.0, vetoes=weakest)
    )


def test_a_headline_that_states_the_topic_is_not_outweighed_by_the_rival_it_names() -> None:
    groups = {"morocco": ["morocco"], "israel": ["israeli"], "defence": ["howitzer*"]}
    rivals = {"other": ["french", "france", "caesar"]}
    text = "The French Caesar, built in France, lost. France sold Caesar guns before."
    topic = make_topic(groups=groups, exclude=rivals)
    assert matches(text, topic, title="Morocco picks Israeli howitzer over French Caesar")
    assert not matches(text, topic, title="French Caesar loses to Israeli howitzer in Morocco")


REACTION = {
    "groups": {"morocco": ["morocco"], "israel": ["israel"], "defence": ["defence pact"]},
    "reaction": {"voices": ["algeria"], "verbs": ["slams", "said"]},
}


@pytest.mark.parametrize(
    ("policy", "kind"), [("context", "reaction"), ("alert", "match"), ("ignore", None)]
)
def test_a_reaction_is_context_by_default_and_the_topic_decides(
    policy: str, kind: str | None
) -> None:
    topic = load_topics([{"name": "t", **REACTION, "reactions": policy}], path="t.toml")[0]
    found = match_topics(
        article(
            "The Morocco–Israel defence pact worries Algiers.",
            "Algeria slams Morocco–Israel defence pact",
        ),
        [topic],
    )
    assert [m.kind for m in found] == ([kind] if kind else [])
    if found:
        assert found[0].why.startswith("reaction of Algeria — ")


def test_news_of_the_deal_told_with_a_neighbours_anger_is_not_a_reaction() -> None:
    topic = load_topics([{"name": "t", **REACTION}], path="t.toml")[0]
    [match] = match_topics(
        article(
            "Morocco and Israel signed a defence pact on Monday.\nAlgeria said it was worried.",
            "Morocco and Israel sign defence pact",
        ),
        [topic],
    )
    assert (
        match.kind == "match"
        and match.why == "morocco + israel + defence: Morocco, Israel, defence pact"
    )


def test_the_match_dict_carries_kind_and_why() -> None:
    [match] = match_topics(
        article("Morocco and Israel sign a defence pact."),
        [load_topics([{"name": "t", **REACTION}], path="t.toml")[0]],
    )
    assert match.to_dict()["kind"] == "match"
    assert match.to_dict()["why"] == "morocco + israel + defence: Morocco, Israel, defence pact"


def test_paragraph_languages_are_worked_out_once_and_only_when_needed() -> None:
    doc = read_document("Le Maroc commande des drones", "The army said it was not told.", "fr")
    assert doc.part_langs == {}
    assert doc.langs_of(0) == frozenset({"fr"}) and doc.langs_of(1) == frozenset({"en"})
    assert set(doc.part_langs) == {0, 1}


def test_why_quotes_one_form_of_a_word() -> None:
    from pipelines.topics.reactions import why

    terms = {"m": ["Moroccan", "Morocco"], "i": ["BlueBird", "Israeli"], "d": ["defence pact"]}
    line = why(["Morocco", "Israel", "defence"], terms)
    assert line == "Morocco + Israel + defence: Moroccan, BlueBird, defence pact, Israeli"
