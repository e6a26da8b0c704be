"""The topic matcher: rule syntax, scoring, explanations, config errors, and the default
topic measured on a labelled set of near misses."""

from __future__ import annotations

import json
import pickle
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import ConfigError
from pipelines.models import Article
from pipelines.topics import Topic, default_topics, load_topics, match_topics

DATA = Path(__file__).parent / "data"
SEEDS = Path(__file__).parent.parent / "pipelines" / "seed_corpus"
# The labelled sets ship inside the package, so ``newswatch topics eval`` finds them on any
# install; the tests read the very same files.
EVAL = Path(__file__).parent.parent / "pipelines" / "topic_eval"
SETS = ("labelled.jsonl", "holdout.jsonl", "blind2.jsonl", "blind3.jsonl")
# The first two sets hold every near-miss kind in every language; blind2 and blind3 spread
# their kinds over the languages (see the tests of each blind set below).
BALANCED_SETS = SETS[:2]
NEAR_MISSES = (
    "tourism",
    "flights",
    "trade",
    "agriculture",
    "culture",
    "other-country-deal",
    "israel-other-deal",
    "protest",
    "sport",
    "passing-mention",
    "diplomacy",
)
# Pinned floors (precision, recall) per language, measured on all sets together. The
# goal is 0.95 in every main language. Spanish and Arabic have a handful of articles, where
# one article moves recall by a third, so their floor only catches a collapse.
FLOORS = {
    "en": (0.95, 0.95),
    "fr": (0.95, 0.95),
    "nl": (0.95, 0.95),
    "es": (0.75, 0.66),
    "ar": (0.66, 0.5),
}


def article(text: str, title: str | None = None) -> Article:
    return Article(url="https://example.org/a", title=title, text=text)


def make_topic(**table: Any) -> Topic:
    """A small topic: Morocco AND Israel, with no score floor unless a test sets one."""
    raw: dict[str, Any] = {
        "name": "t",
        "groups": {"morocco": ["morocco", "moroccan*", "FAR"], "israel": ["israel", "IDF"]},
    }
    raw.update(table)
    return load_topics([raw], path="test.toml")[0]


def matches(text: str, topic: Topic, title: str | None = None) -> bool:
    return bool(match_topics(article(text, title), [topic]))


# --- the default topic, measured ---------------------------------------------------------


def labelled(name: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for set_name in [name] if name else SETS:
        text = (EVAL / set_name).read_text("utf-8")
        rows += [json.loads(line) for line in text.splitlines() if line]
    return rows


@pytest.mark.parametrize("name", BALANCED_SETS)
def test_each_set_has_near_misses_of_every_kind_in_each_language(name: str) -> None:
    rows = labelled(name)
    kinds = Counter((r["lang"], r["kind"]) for r in rows)
    for lang in ("en", "fr", "nl"):
        for kind in ("relevant", *NEAR_MISSES):
            assert kinds[(lang, kind)] >= 1, (lang, kind)
        assert sum(n for (lg, _), n in kinds.items() if lg == lang) >= 20
    # A denial of a deal is still news for a defence analyst, so it is labelled relevant.
    assert all(r["relevant"] == (r["kind"] in ("relevant", "denial")) for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_the_held_out_set_is_realistic_news_prose() -> None:
    rows = labelled("holdout.jsonl")
    assert len(rows) >= 60
    short = [
        r["id"]
        for r in rows
        if r["lang"] in ("en", "fr", "nl")
        and not 120 <= len(f"{r['title']} {r['text']}".split()) <= 400
    ]
    assert short == []


BLIND2_NEAR_MISSES = (
    *NEAR_MISSES,
    "water",
    "health",
    "algeria",
    "israel-domestic",
)


def test_the_second_blind_set_covers_what_it_was_written_for() -> None:
    rows = labelled("blind2.jsonl")
    assert {r["kind"] for r in rows} == {"relevant", *BLIND2_NEAR_MISSES}
    assert all(r["relevant"] == (r["kind"] == "relevant") for r in rows)
    for lang in ("en", "fr", "nl"):
        mine = [r for r in rows if r["lang"] == lang]
        assert len(mine) >= 20 and sum(r["relevant"] for r in mine) >= 10, lang
    # articles of 120-400 words, or briefs of 60-100
    lengths = [len(r["text"].split()) for r in rows]
    assert all(60 <= n <= 100 or 120 <= n <= 400 for n in lengths), lengths
    assert sum(60 <= n <= 100 for n in lengths) >= 5
    every = [r["id"] for r in labelled()]
    assert len(set(every)) == len(every)


BLIND3_NEAR_MISSES = (
    "trade",
    "flights",
    "tourism",
    "agriculture",
    "water",
    "health",
    "culture",
    "heritage",
    "diaspora",
    "sport",
    "other-country-deal",
    "israel-other-deal",
    "war",
    "protest",
    "diplomacy",
    "passing-mention",
    "israel-domestic",
    "budget",
)


def test_the_third_blind_set_says_it_without_the_word_defence() -> None:
    rows = labelled("blind3.jsonl")
    assert {r["kind"] for r in rows} == {"relevant", *BLIND3_NEAR_MISSES}
    assert all(r["relevant"] == (r["kind"] == "relevant") for r in rows)
    for lang in ("en", "fr", "nl"):
        mine = [r for r in rows if r["lang"] == lang]
        relevant = sum(r["relevant"] for r in mine)
        assert len(mine) >= 20 and 0.4 <= relevant / len(mine) <= 0.5, lang
    assert all(100 <= len(r["text"].split()) <= 450 for r in rows)
    # relevant stories name the field in other words: FAR, Tsahal, loitering munitions...
    said = [
        r["id"]
        for r in rows
        if r["relevant"] and re.search(r"d[eé]fen[cs]|defensie", r["text"], re.I)
    ]
    assert said == []


@pytest.mark.parametrize("lang", sorted(FLOORS))
def test_default_topic_precision_and_recall_per_language(lang: str) -> None:
    topics = default_topics()
    rows = [r for r in labelled() if r["lang"] == lang]
    found = {r["id"]: bool(match_topics(article(r["text"], r["title"]), topics)) for r in rows}
    wrong = sorted(f"{r['id']} ({r['kind']})" for r in rows if found[r["id"]] != r["relevant"])
    true_pos = sum(found[r["id"]] and r["relevant"] for r in rows)
    precision = true_pos / max(1, sum(found.values()))
    recall = true_pos / max(1, sum(r["relevant"] for r in rows))
    least_precision, least_recall = FLOORS[lang]
    assert precision >= least_precision and recall >= least_recall, (precision, recall, wrong)


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_every_seed_article_matches_the_default_topic(seed: Path) -> None:
    [match] = match_topics(article(seed.read_text("utf-8")), default_topics())
    assert match.topic == "morocco-israel-defence"
    assert all(match.terms[g] for g in ("morocco", "israel", "defence"))
    assert len(match.snippet) <= 210


def test_unrelated_real_news_pages_do_not_match() -> None:
    pages = json.loads((DATA / "real-pages" / "ground-truth.json").read_text("utf-8"))
    topics = default_topics()
    hits = [p["url"] for p in pages.values() if match_topics(article(p["articleBody"]), topics)]
    assert hits == []


def test_default_topics_come_from_the_packaged_toml() -> None:
    first, second = default_topics(), default_topics()
    assert [t.name for t in first] == ["morocco-israel-defence"]
    assert first is not second  # callers may extend their list
    assert first[0].recipients == [] and first[0].title.startswith("Morocco")


# --- explanations -------------------------------------------------------------------------


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


# --- how terms match ----------------------------------------------------------------------


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


def test_a_term_in_two_groups_counts_for_both() -> None:
    topic = make_topic(groups={"israel": ["israel", "Elbit"], "defence": ["army", "Elbit"]})
    [match] = match_topics(article("Elbit opened a plant."), [topic])
    assert match.terms == {"israel": ["Elbit"], "defence": ["Elbit"]}


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


# --- proximity, scoring, exclusions -------------------------------------------------------

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


def test_an_exclude_list_that_outweighs_the_weakest_group_drops_the_match() -> None:
    topic = make_topic(exclude={"travel": ["tourist*", "hotel*", "flight*"]})
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
    assert not matches(story, make_topic(groups=groups, exclude=war))  # war 4 > morocco 2
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


# Written after the rules, to pin what rule 5 of docs/topics.md promises: a war report full
# of troops and tanks, Algeria buying Russian jets and a protest against the defence pact
# stay out; defence stories told against the war or Algeria's anger stay in.
BACKDROPS = [
    pytest.param(
        False,
        "Morocco condemns Israeli military offensive in Rafah",
        (
            "Morocco on Tuesday condemned the Israeli military offensive in Rafah, where "
            "Israeli troops and tanks have pushed into the southern Gaza city, calling it a "
            "grave violation of international law.\n"
            "The foreign ministry said Rabat rejected the army's operations, which have "
            "killed hundreds of Palestinian civilians and displaced more than a million "
            "people, and urged an immediate ceasefire.\n"
            "Israeli soldiers have taken control of the Rafah crossing with Egypt, cutting "
            "a vital route for humanitarian aid. The Israeli army says it is targeting "
            "Hamas battalions.\n"
            "Morocco, which restored ties with Israel in 2020, has sent several aid convoys "
            "to Gaza through Israeli crossings."
        ),
        id="war-nm",
    ),
    pytest.param(
        True,
        "Algeria fumes as Morocco takes delivery of Israeli drones",
        (
            "Algeria reacted angrily on Wednesday to reports that Morocco has taken "
            "delivery of a new batch of Israeli-made combat drones, accusing its neighbour "
            "of turning the region into an arms depot.\n"
            "The Algerian foreign ministry said the deliveries threatened Algeria's "
            "security, and Algerian state television devoted its evening bulletin to the "
            "subject. Algiers cut ties with Rabat in 2021.\n"
            "According to a defence newsletter, the Royal Armed Forces received around "
            "twenty drones from an Israeli manufacturer last month under a contract signed "
            "in 2023, with training for Moroccan operators provided in Israel.\n"
            "Morocco's army did not comment. Algerian officials have repeatedly denounced "
            "the military cooperation between Morocco and Israel since the two signed a "
            "defence memorandum in 2021."
        ),
        id="alg-rel",
    ),
    pytest.param(
        True,
        "Israeli defence firms still at Marrakech air show despite war",
        (
            "Despite the war in Gaza and calls for a boycott, four Israeli defence "
            "companies exhibited at the Marrakech air show this week, showing drones, "
            "radars and missile-defence systems to Moroccan military buyers.\n"
            "Protesters gathered outside the venue, chanting slogans against normalisation "
            "and in support of Palestinians. Inside, Moroccan officers visited the Israeli "
            "stands, according to attendees.\n"
            "The companies did not advertise their presence. One executive said talks with "
            "the Royal Armed Forces on air-defence radars were continuing.\n"
            "Morocco has condemned the Israeli offensive and called for a ceasefire and "
            "humanitarian access."
        ),
        id="gaza-rel2",
    ),
    pytest.param(
        False,
        "Algeria answers Morocco's Israeli drones with Russian jets",
        (
            "Algeria has ordered a new batch of Russian Su-35 fighter jets and S-400 "
            "air-defence systems, the Russian news agency TASS reported, in what analysts "
            "in Algiers describe as a response to Morocco's purchases of Israeli drones.\n"
            "Algerian officials have long warned that military cooperation between Rabat "
            "and Israel threatens the region. The Algerian army, equipped almost entirely "
            "by Moscow, has the largest budget in Africa.\n"
            "Russia's arms export agency did not confirm the contract. Algeria's defence "
            'ministry said the country "will not accept any threat to its security".\n'
            "The order would add to Algeria's fleet of Russian fighters and its network of "
            "Russian surface-to-air missiles."
        ),
        id="alg-rus-nm",
    ),
    pytest.param(
        False,
        "Moroccan protesters demand end to military pact with Israel",
        (
            "Thousands of protesters marched in Rabat on Sunday demanding that Morocco "
            "cancel its military agreements with Israel, including the 2021 defence "
            "memorandum, as anger over the war in Gaza continued to fuel demonstrations.\n"
            "Chanting slogans against normalisation and waving Palestinian flags, "
            "demonstrators called on the government to close the Israeli liaison office. "
            '"No to the drone factory, no to normalisation," read one banner.\n'
            "The protest, organised by the Moroccan Front for Supporting Palestine and "
            "Against Normalisation, passed off peacefully. Activists say several people "
            "were arrested in Casablanca last week for calling for a boycott of Israeli "
            "goods."
        ),
        id="prot-nm",
    ),
    # "Export" is trade vocabulary and arms vocabulary: an export licence for interceptors
    # is a defence story, a trade report that names the army once is not.
    pytest.param(
        True,
        "Israel clears export of interceptors to Morocco",
        (
            "Israel has approved the export of Spyder interceptors to Morocco, according to "
            "a filing by the manufacturer. Export licences for the kingdom now cover "
            "several systems.\n"
            "The export approval follows years of talks and a growing list of exports to "
            "Rabat, company executives told investors at a business conference."
        ),
        id="export-rel",
    ),
    pytest.param(
        False,
        "Morocco-Israel trade hits record as exports double",
        (
            "Exports from Morocco to Israel doubled last year, led by textiles, fertilisers "
            "and canned fish, while imports of irrigation equipment rose, trade figures "
            "show. Investment by Israeli companies in Rabat and Casablanca also grew.\n"
            "Business leaders said the trade relationship had survived the war, although "
            "one investor noted that military tensions in the region weighed on exports."
        ),
        id="trade-nm",
    ),
    pytest.param(
        False,
        "Pegasus Airlines adds Marrakech flights for Israeli tourists",
        (
            "Pegasus Airlines will fly from Istanbul to Marrakech four times a week, "
            "offering Israeli tourists a connection to Morocco. Pegasus Airlines said "
            "demand from Tel Aviv had grown since the spring.\n"
            "Israeli travel agents welcomed the route, which avoids the long detour "
            "through Europe. Military tensions in the region have not hurt bookings, "
            "the airline said."
        ),
        id="pegasus-nm",
    ),
    pytest.param(
        False,
        "Marokkanen demonstreren tegen wapenschip voor Israël",
        (
            "In Tanger demonstreerden honderden Marokkanen tegen een schip dat volgens "
            "activisten onderdelen voor Israëlische gevechtsvliegtuigen vervoert. Op "
            "spandoeken stond dat Marokko geen wapens voor Israël mag doorlaten.\n"
            "De demonstranten eisten dat de regering de betrekkingen met Israël verbreekt. "
            "De rederij ontkent dat er wapens aan boord zijn."
        ),
        id="prot-nl-nm",
    ),
]


@pytest.mark.parametrize(("relevant", "title", "text"), BACKDROPS)
def test_the_default_topic_on_stories_with_a_backdrop(
    relevant: bool, title: str, text: str
) -> None:
    assert matches(text, default_topics()[0], title) is relevant


def test_the_default_topic_keeps_a_defence_story_told_against_the_war() -> None:
    [topic] = default_topics()
    rows = {r["id"]: r for r in labelled()}
    for kept in ("en-117", "b2-en-006", "b2-fr-007", "b2-en-009"):
        assert matches(rows[kept]["text"], topic, rows[kept]["title"]), kept
    for dropped in ("en-081", "fr-089", "nl-096"):
        assert not matches(rows[dropped]["text"], topic, rows[dropped]["title"]), dropped
    assert topic.vetoes["war"].against == "defence"


# --- configuration errors -----------------------------------------------------------------

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
