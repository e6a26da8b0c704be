"""The default topic on stories told against a backdrop: a war, a rival's purchase, a protest."""

from __future__ import annotations

import pytest
from topic_cases import labelled, matches

from pipelines.topics import default_topics

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
