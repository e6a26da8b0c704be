"""Scoring: proximity of the groups, caps, score floors, exclusions and vetoes."""

from __future__ import annotations

from topic_cases import article, make_topic, matches

from pipelines.topics import match_topics

FAR_APART = (
    "Morocco opened a new port this week, officials in the capital said.\n"
    + " ".join(["The weather was calm and the markets were quiet."] * 8)
    + "\n"
    + " ".join(["Nothing else of note happened in the region."] * 8)
    + "\n"
    + "Separately, Israel held an election.\n"
)


def test_groups_in_different_paragraphs_do_not_match() -> None:
    assert not matches(FAR_APART, make_topic())
    assert matches("Morocco and Israel met.\nNothing else.", make_topic())


def test_proximity_in_words() -> None:
    text = "Morocco " + "word " * 20 + "Israel"
    assert matches(text, make_topic(proximity=25))
    assert not matches(text, make_topic(proximity=10))
    assert not matches(FAR_APART, make_topic(proximity=40))


def test_title_terms_are_near_every_paragraph() -> None:
    text = FAR_APART.replace("Morocco", "The country")
    assert matches(text, make_topic(), title="Morocco: a week of news")


def test_lead_paragraphs_count_as_one() -> None:
    assert matches("Rabat, 3 May - Morocco\nIsrael and the kingdom met.\n", make_topic())


def test_term_cap_stops_one_repeated_word_carrying_an_article() -> None:
    text = "Morocco and Israel. " + "Morocco. " * 30
    capped = match_topics(article(text), [make_topic(term_cap=3.0)])
    assert capped and capped[0].score == 3.0 + 2.0
    assert not matches(text, make_topic(term_cap=3.0, min_score=6.0))


def test_min_group_score_rejects_a_passing_mention() -> None:
    lead = " ".join(["Moroccan officials discussed the budget at length."] * 8)  # 56 words
    text = f"{lead}\nMorocco also buys from Israel, Morocco said, and Moroccan firms agreed."
    assert matches(text, make_topic())
    assert not matches(text, make_topic(min_group_score=2.0))


def test_an_exclude_list_that_outweighs_the_topics_core_drops_the_match() -> None:
    topic = make_topic(exclude={"travel": ["tourist*", "hotel*", "flight*"]})
    # all in the lead, 2 points a word: morocco 2, israel 4, so the core is 3; travel 6
    holiday = "Israeli tourists filled Moroccan hotels; flights from Israel are full."
    assert not matches(holiday, topic)
    assert matches("One hotel hosted the talks.", topic, title="Morocco and Israel sign a pact")
    # a tie goes to the topic: 2 points of "hotel" against 2 of "Morocco"
    assert matches("Morocco and Israel signed a pact; one hotel hosted it.", topic)
    assert not matches("Morocco and Israel signed a pact; hotels, hotel staff, a tourist.", topic)


def test_a_veto_can_compete_with_a_named_group_by_a_factor() -> None:
    groups = {
        "morocco": ["morocco"],
        "israel": ["israel", "israeli"],
        "defence": ["drone*", "radar*", "jammer*", "army"],
    }
    war = {"war": ["gaza", "ceasefire", "army"]}
    # all in the lead, 2 points a word: morocco 2, israel 4, defence 6, war 4
    story = "Morocco received Israeli drones, radars and jammers, Israel said.\nGaza: no ceasefire."
    assert matches(story, make_topic(groups=groups, exclude=war))  # war 4, core (2+4+6)/3 = 4
    weakest = make_topic(groups=groups, exclude=war, vetoes={"war": {"against": "weakest"}})
    assert not matches(story, weakest)  # war 4 > morocco 2
    backdrop = make_topic(groups=groups, exclude=war, vetoes={"war": {"against": "defence"}})
    assert matches(story, backdrop)  # war 4 against defence 6
    strict = make_topic(
        groups=groups, exclude=war, vetoes={"war": {"against": "defence", "factor": 0.5}}
    )
    assert not matches(story, strict)  # war 4 > 0.5 x 6
    # A term in a group and in an exclude list counts for both: "army" (capped at 3) is
    # defence 3 and war 3, and with Gaza (2) the war scores 5 > 1.4 x 3.
    report = "Morocco condemned the Israeli army in Gaza; the army must stop."
    lenient = make_topic(
        groups=groups, exclude=war, vetoes={"war": {"against": "defence", "factor": 1.4}}
    )
    assert not matches(report, lenient)
    assert matches(
        report,
        make_topic(
            groups=groups,
            exclude={"war": ["gaza"]},
            vetoes={"war": {"against": "defence", "factor": 1.4}},
        ),
    )
