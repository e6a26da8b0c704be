"""The word and line rules that extraction and deduplication share (pipelines/text.py)."""

from __future__ import annotations

import unicodedata

import pytest

from pipelines.addresses import address_domain, sender_domain
from pipelines.text import (
    MIN_LINE_WORDS,
    _combining_marks,
    count_words,
    dehyphenate,
    is_prose_line,
    normalize_words,
    prose,
    unwrapped,
)


def test_cjk_characters_count_two_to_a_word() -> None:
    assert count_words("one two three") == 3
    # A run without spaces is one word, plus one per two of its characters.
    assert count_words("東京都庁") == 3
    assert count_words("Tokyo 東京") == 3


def test_words_fold_case_accents_and_invisible_characters() -> None:
    assert normalize_words("Coopération MILITAIRE") == ["cooperation", "militaire"]
    assert normalize_words("l’État") == normalize_words("l'Etat")
    assert normalize_words("zero\u200bwidth") == ["zerowidth"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("coopé-\nration", "coopération"),  # a line end split the word
        ("coopé- ration", "coopération"),  # the line break turned into a space
        ("Rabat - Tel-Aviv", "Rabat - Tel-Aviv"),  # a dash between words stays
        ("pré- et post-électoral", "pré- et post-électoral"),  # a conjunction follows
        ("Maroc- Israël", "Maroc- Israël"),  # a capital starts a name, not a word's end
    ],
)
def test_dehyphenate_joins_only_certain_splits(text: str, expected: str) -> None:
    assert dehyphenate(text) == expected


def test_unwrapped_joins_lines_a_layout_broke_inside_a_sentence() -> None:
    lines = ["Les Forces armées ont signé", "mardi un contrat de l’", "armée.", "Photo: AFP"]
    assert unwrapped(lines) == ["Les Forces armées ont signé mardi un contrat de l’armée.",
                                "Photo: AFP"]  # fmt: skip
    assert unwrapped(["  ", "One sentence.", "", "another line"]) == [
        "One sentence.",
        "another line",
    ]


def test_a_prose_line_has_enough_words_and_is_no_link_line() -> None:
    sentence = " ".join(["word"] * MIN_LINE_WORDS)
    assert is_prose_line(sentence)
    assert not is_prose_line(" ".join(["word"] * (MIN_LINE_WORDS - 1)))
    assert not is_prose_line("Lire aussi : " + sentence)
    assert not is_prose_line("» اقرأ أيضا: " + sentence)


def test_prose_drops_short_and_link_lines_but_never_everything() -> None:
    body = "The ministry confirmed on Tuesday that engineers visited the plant."
    text = f"Photo credit\n{body}\nRead more: another story of many many words here"
    assert prose(text) == body
    short = "A list\nof short\nlines only"
    assert prose(short) == short


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("alerts@example.org", "example.org"),
        ("Newsroom <alerts@Example.ORG>", "example.org"),
        ("analyst@bücher.example", "xn--bcher-kva.example"),
        ("no-domain@", None),
        ("@example.org", None),
        ("a@example.org, b@example.org", None),  # two addresses
        ("a@example.org\nBcc: x@example.org", None),  # a header injection
        ("not an address", None),
    ],
)
def test_address_domain(value: str, domain: str | None) -> None:
    assert address_domain(value) == domain


def test_sender_domain_refuses_an_address_without_one() -> None:
    assert sender_domain("newswatch@localhost") == "localhost"
    with pytest.raises(ValueError, match="not an email address"):
        sender_domain("newswatch")


def test_the_marks_pattern_drops_exactly_the_combining_marks_of_the_bmp() -> None:
    text = "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)
    kept = "".join(char for char in text if not unicodedata.combining(char))
    assert _combining_marks().sub("", text) == kept


def test_invisible_characters_never_split_a_word() -> None:
    assert normalize_words("coo\u00adpé\u200bration") == ["cooperation"]
    assert dehyphenate("co\u200bopé-\nration") == "coopération"
