"""Alert templates: escaping, right-to-left items, a 30-item digest, missing fields, the
user's own templates, and what each item says (date in the reader's zone, excerpt, why)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from items import item, outlet

from pipelines.channels.email import email_message
from pipelines.errors import ConfigError
from pipelines.mail import Style, compose_alert, render_chat, render_html, render_plain
from pipelines.templates import load_templates

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def compose(items: list, style: Style | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return compose_alert(
        items,
        sender="newswatch <alerts@example.org>",
        recipients={"email": ("analyst@example.org",)},
        now=NOW,
        style=style,
        **kw,  # type: ignore[arg-type]
    )


def test_a_hostile_title_reaches_neither_a_header_nor_the_html_unescaped() -> None:
    hostile = item(
        title='<b onmouseover="x">Drones</b>\r\nBcc: victim@example.net\nX-Evil: 1',
        source="<script>alert(1)</script>",
        snippet="<img src=x onerror=alert(1)> Le Maroc acquiert des drones.",
    )
    message = compose([hostile])
    raw = email_message(message, ["analyst@example.org"]).as_bytes()

    assert b"\nBcc:" not in raw and b"\nX-Evil:" not in raw
    assert "\n" not in message.subject and "Bcc: victim" in message.subject
    html = message.html or ""
    assert "<b " not in html and "<script>" not in html and "<img" not in html
    assert "&lt;b onmouseover=" in html and "&lt;script&gt;" in html
    assert "Bcc: victim@example.net X-Evil: 1" in message.text  # one line in the text too
    assert message.chat is not None and "\nBcc:" not in message.chat


def test_an_item_shows_title_outlet_domain_language_local_date_and_no_score() -> None:
    message = compose([item()], Style(timezone="Africa/Casablanca"))
    text, html = message.text, message.html or ""

    assert "Hespress FR (hespress.com) · fr · 18 Nov 2026, 10:35" in text  # UTC+1 there
    assert "18 Nov 2026, 09:35" in compose([item()], Style(timezone="UTC")).text
    assert "Score" not in text and "53" not in text and "53" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "prefers-color-scheme: dark" in html  # kept in a <style> for the clients that can
    assert re.search(r'<body style="[^"]*background: #f4f4f2', html)  # light defaults inlined
    assert "morocco:" not in text and "defence:" not in text  # no internal group names listed


def test_the_excerpt_starts_at_a_sentence_and_marks_the_terms() -> None:
    message = compose([item()])

    assert "   Le Maroc acquiert des drones et le système Barak MX auprès d'Israël" in message.text
    assert "selon des sources" not in message.text
    html = message.html or ""
    for term in ("Maroc", "drones", "Barak MX", "Israël"):
        assert re.search(rf"<mark[^>]*>{term}</mark>", html), term


def test_why_in_words_from_the_terms_or_the_match_and_the_feedback_commands() -> None:
    built = compose([item()]).text
    given = compose([item(why="Morocco + Israel + defence: Barak MX, FAR, IAI")]).text

    assert "Why: Morocco + Israel + Defence: Maroc, Israël, drones, Barak MX" in built
    assert "Why: Morocco + Israel + defence: Barak MX, FAR, IAI" in given
    assert "newswatch feedback 42 --relevant (or --not-relevant)" in built
    assert "newswatch feedback 42 --relevant" in (compose([item()]).html or "")


def test_right_to_left_items_are_laid_out_right_to_left() -> None:
    arabic = item(title="المغرب وإسرائيل يوقعان اتفاقية دفاعية", lang="ar", snippet="وقع المغرب.")
    hebrew = item(alert_id=8, title="ישראל ומרוקו", lang="he", url="https://he.example/1")
    html = render_html([arabic, hebrew], style=Style())

    assert len(re.findall(r'<div class="item"[^>]*dir="rtl"', html)) == 2
    assert 'lang="ar"' in html and 'lang="he"' in html
    assert 'dir="ltr"' not in re.search(r'<div class="item"[^>]*>', html).group(0)  # type: ignore[union-attr]


def test_missing_title_date_and_language_say_so() -> None:
    bare = item(title="", published=None, lang=None, terms={}, snippet="", source="")
    text = render_plain([bare], style=Style())
    html = render_html([bare], style=Style())

    assert "https://www.hespress.com/301200-maroc-israel-drones.html\n" in text
    assert "hespress.com · language unknown · date unknown" in text
    assert "Why:" not in text
    assert "date unknown" in html and "language unknown" in html


def test_a_digest_of_30_lists_its_items_newest_first_by_topic_then_language() -> None:
    items = [
        item(
            alert_id=n,
            article_id=1000 + n,
            topic="cyber" if n % 3 == 0 else "defence",
            topic_title="Cyber" if n % 3 == 0 else "Defence",
            url=f"https://site{n}.example/a",
            title=f"Article {n:02d}",
            lang="ar" if n % 2 else "fr",
            published=f"2026-10-{n:02d}T08:00:00+00:00",
        )
        for n in range(1, 31)
    ]
    message = compose(items)
    text = message.text
    toc = text.split("In this digest:")[1].split("\n\n1. ")[0]

    titles = re.findall(r"\d+\. (Article \d\d)", toc)
    assert len(titles) == 30 and len(set(titles)) == 30
    # Cyber has the newest (day 30): it comes first; within it French (30) before Arabic (27).
    assert toc.index("Cyber") < toc.index("Defence")
    cyber = toc[toc.index("Cyber") : toc.index("Defence")]
    assert cyber.index("[fr]") < cyber.index("[ar]")
    french = re.findall(r"Article (\d\d)", cyber[cyber.index("[fr]") : cyber.index("[ar]")])
    assert french == ["30", "24", "18", "12", "06"]  # newest first
    defence = toc[toc.index("Defence") :]
    assert defence.index("[ar]") < defence.index("[fr]")  # 29 is Arabic, 28 French
    body = text.split("In this digest:")[1]
    assert [n for n in re.findall(r"\n(\d+)\. Article", body)] == [str(n) for n in range(1, 31)]
    assert message.subject == "[newswatch] 30 new: Defence, Cyber"
    assert (message.html or "").count('class="item"') == 30


def test_a_story_says_how_widely_it_is_covered_and_folds_its_outlets() -> None:
    story = item(
        story_id=5,
        story_title="Morocco buys Israeli drones",
        story_sources=6,
        story_languages=("fr", "ar", "en"),
        outlets=(
            outlet(1, "article"),
            outlet(2, "also-covered"),
            outlet(3, "copy"),
            outlet(4, "reaction"),
        ),
    )
    message = compose([story])

    assert message.subject == "[newswatch] Story: Morocco buys Israeli drones"
    assert "covered by 6 sources in 3 languages" in message.text
    for label in ("Also reported by:", "Also covered by:", "Copies:", "Reactions (context):"):
        assert label in message.text
    assert "Report 2 — Outlet 2 · en · 18 Nov 2026, 12:00" in message.text
    assert "covered by 6 sources" in (message.chat or "")
    update = compose([story.__class__(**{**story.__dict__, "kind": "update"})])
    assert update.subject == "[newswatch] Update: Morocco buys Israeli drones"


def test_the_chat_form_is_short() -> None:
    chat = render_chat([item()], style=Style())

    assert chat.splitlines() == [
        "Le Maroc acquiert des drones israéliens",
        "Hespress FR · 18 Nov 2026, 09:35",
        "https://www.hespress.com/301200-maroc-israel-drones.html",
        "Why: Morocco + Israel + Defence: Maroc, Israël, drones, Barak MX",
    ]


def test_a_users_template_wins_and_a_broken_one_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "chat.txt").write_text("{% for i in items %}* {{ i.title }}{% endfor %}\n")
    assert render_chat([item()], style=Style(templates=str(tmp_path))) == (
        "* Le Maroc acquiert des drones israéliens"
    )
    assert "Le Maroc" in render_plain([item()], style=Style(templates=str(tmp_path)))

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "alert.txt").write_text("line one\n{% for i in items %}\n{{ i.title }\n")
    load_templates.cache_clear()
    with pytest.raises(ConfigError) as caught:
        render_plain([item()], style=Style(templates=str(broken), config_path="nw.toml"))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"nw.toml: alerts.templates: {broken / 'alert.txt'} line 3: ")
