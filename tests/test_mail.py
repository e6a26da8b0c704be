"""Alert emails as an analyst's mail client will see them (parsed back from bytes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from pipelines.channels.email import email_message, render_text
from pipelines.mail import AlertItem, compose_alert

SENDER = "newswatch <alerts@news.example.org>"
TO = ["analyst@example.org"]
NOW = datetime(2024, 3, 5, 8, 30, tzinfo=UTC)


def make_item(**changes: object) -> AlertItem:
    item = AlertItem(
        alert_id=7,
        topic="morocco-israel-defence",
        topic_title="Morocco–Israel defence",
        article_id=42,
        url="https://fr.hespress.com/301200-maroc-israel-drones.html",
        title="Le Maroc acquiert des drones israéliens",
        source="Hespress FR",
        published="2023-01-18",
        lang="fr",
        score=0.8234,
        terms={"actors": ["Maroc", "Israël"], "defence": ["drones", "Elbit Systems"]},
        snippet="… le Maroc a signé un accord avec Elbit Systems pour des drones …",
        copies=["https://fr.le360.ma/politique/maroc-israel-drones-270001"],
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def build(items: list[AlertItem], **kwargs: object) -> EmailMessage:
    """The alert composed (a neutral message), then written as the email channel sends it."""
    options: dict[str, object] = {"sender": SENDER, "now": NOW, **kwargs}
    to: tuple[str, ...] = tuple(options.pop("to", TO))  # type: ignore[arg-type]
    composed = compose_alert(items, recipients={"email": to}, **options)  # type: ignore[arg-type]
    return email_message(composed, to)


def round_trip(msg: EmailMessage) -> EmailMessage:
    """What a receiving client parses: the message serialised to bytes and read back."""
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


def test_one_item_has_the_headers_and_both_parts() -> None:
    msg = round_trip(build([make_item()]))

    assert msg["Subject"] == "[newswatch] New: Le Maroc acquiert des drones israéliens"
    assert msg["From"] == SENDER
    assert msg["To"] == "analyst@example.org"
    assert msg["Date"] == "Tue, 05 Mar 2024 08:30:00 +0000"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())


def test_plain_part_says_what_where_when_and_why() -> None:
    plain, _ = parts(round_trip(build([make_item()])))

    for expected in (
        "Le Maroc acquiert des drones israéliens",
        "https://fr.hespress.com/301200-maroc-israel-drones.html",
        "Hespress FR (fr.hespress.com) · fr · 18 Jan 2023",
        "Why: Actors + Defence: Maroc, Israël, drones, Elbit Systems",
        "le Maroc a signé un accord avec Elbit Systems",
        "Copies:",
        "https://fr.le360.ma/politique/maroc-israel-drones-270001",
        "newswatch feedback 42 --relevant (or --not-relevant)",
    ):
        assert expected in plain
    assert "Score" not in plain and "0.82" not in plain  # no raw score


def test_html_part_links_the_title_and_the_copies() -> None:
    _, html = parts(round_trip(build([make_item()])))

    assert ('<a href="https://fr.hespress.com/301200-maroc-israel-drones.html" style="') in html
    assert ">Le Maroc acquiert des drones israéliens</a>" in html
    assert '<a href="https://fr.le360.ma/politique/maroc-israel-drones-270001"' in html
    assert "Why: Actors + Defence: Maroc, Israël, drones, Elbit Systems" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_digest_counts_items_in_the_subject_and_lists_each() -> None:
    items = [
        make_item(alert_id=i, title=f"Article {i}", url=f"https://a.ma/{i}") for i in (1, 2, 3)
    ]
    msg = round_trip(build(items))
    plain, html = parts(msg)

    assert msg["Subject"] == "[newswatch] 3 new: Morocco–Israel defence"
    assert "3 new articles for: Morocco–Israel defence" in plain
    assert all(f"{i}. Article {i}" in plain for i in (1, 2, 3))
    assert all(f'<a href="https://a.ma/{i}" style=' in html for i in (1, 2, 3))


def test_digest_over_two_topics_names_both_once() -> None:
    items = [
        make_item(alert_id=1),
        make_item(alert_id=2),
        make_item(alert_id=3, topic_title="Cyber"),
    ]

    assert build(items)["Subject"] == "[newswatch] 3 new: Morocco–Israel defence, Cyber"


def test_hostile_title_cannot_inject_headers_or_markup() -> None:
    hostile = make_item(
        title="<script>alert(1)</script>\r\nBcc: victim@example.net\r\nX-Evil: 1",
        snippet='"><img src=x onerror=alert(1)>',
        source="<b>Site</b>",
    )
    raw = build([hostile]).as_bytes()
    msg = round_trip(build([hostile]))
    _, html = parts(msg)

    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert b"\nBcc:" not in raw and b"\nX-Evil:" not in raw
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"].startswith("[newswatch] New: <script>alert(1)</script> Bcc: victim@")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and '"&gt;&lt;img src=x onerror=alert(1)&gt;' in html
    assert "&lt;b&gt;Site&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(document.cookie)", "data:text/html,<script>x</script>", "//evil.example"],
)
def test_only_http_links_become_links(url: str) -> None:
    _, html = parts(round_trip(build([make_item(url=url, copies=[url])])))

    assert "<a " not in html
    assert "Le Maroc acquiert des drones israéliens" in html


def test_quote_in_a_url_cannot_leave_the_href_attribute() -> None:
    item = make_item(url='https://a.ma/x"onmouseover="alert(1)')
    _, html = parts(round_trip(build([item])))

    assert 'href="https://a.ma/x&quot;onmouseover=&quot;alert(1)"' in html


def test_arabic_and_french_accents_survive_the_round_trip() -> None:
    arabic = "المغرب وإسرائيل يوقعان اتفاقية دفاعية"
    item = make_item(
        title=arabic,
        lang="ar",
        source="هسبريس",
        terms={"actors": ["المغرب", "إسرائيل"], "defence": ["دفاع"]},
        snippet="وقع المغرب وإسرائيل مذكرة تفاهم — été, défense, Israël",
    )
    msg = round_trip(build([item], to=["Amélie Lefèvre <amelie@example.org>"]))
    plain, html = parts(msg)

    assert msg["Subject"] == f"[newswatch] New: {arabic}"
    assert msg["To"] == "Amélie Lefèvre <amelie@example.org>"
    assert arabic in plain and arabic in html
    assert "Why: Actors + Defence: المغرب, إسرائيل, دفاع" in plain
    assert 'dir="rtl" lang="ar"' in html or 'lang="ar" id="item-1" dir="rtl"' in html
    assert "été, défense, Israël" in plain and "été, défense, Israël" in html


def test_message_id_is_the_same_for_a_resend() -> None:
    first = build([make_item()], now=NOW)
    resend = build([make_item()], now=NOW + timedelta(hours=5))

    assert first["Message-ID"] == resend["Message-ID"]
    assert first["Message-ID"].startswith("<newswatch.alert-7.")
    assert first["Message-ID"].endswith("@news.example.org>")


def test_message_id_differs_for_another_alert_or_article() -> None:
    base = build([make_item()])["Message-ID"]

    assert build([make_item(alert_id=8)])["Message-ID"] != base
    # Same alert id after the database was recreated, but a different article.
    assert build([make_item(url="https://a.ma/other")])["Message-ID"] != base


def test_digest_message_id_ignores_item_order() -> None:
    items = [make_item(alert_id=i, url=f"https://a.ma/{i}") for i in (3, 1, 2)]

    assert (
        build(items)["Message-ID"] == build(sorted(items, key=lambda i: i.alert_id))["Message-ID"]
    )
    assert build(items)["Message-ID"].startswith("<newswatch.digest-3.")


def test_naive_now_is_taken_as_utc_and_aware_now_is_converted() -> None:
    naive = build([make_item()], now=datetime(2024, 3, 5, 8, 30))
    paris = build(
        [make_item()], now=datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    )

    assert naive["Date"] == paris["Date"] == "Tue, 05 Mar 2024 08:30:00 +0000"


def test_unknown_date_and_language_say_so() -> None:
    plain, _ = parts(build([make_item(published=None, lang=None, terms={}, copies=[])]))

    assert "Hespress FR (fr.hespress.com) · language unknown · date unknown" in plain
    assert "Why:" not in plain and "Copies" not in plain


def test_long_title_is_shortened_in_the_subject_only() -> None:
    title = "Défense " * 40
    msg = build([make_item(title=title)])
    plain, _ = parts(msg)

    assert msg["Subject"].endswith("…")
    assert len(msg["Subject"]) < 180
    assert title.strip() in plain


def test_empty_title_falls_back_to_the_url_and_prefix_is_optional() -> None:
    msg = build([make_item(title="  ")], subject_prefix="")

    assert msg["Subject"] == "New: https://fr.hespress.com/301200-maroc-israel-drones.html"


def test_render_text_shows_headers_and_plain_text_only() -> None:
    text = render_text(build([make_item()]))

    assert text.startswith(f"From: {SENDER}\nTo: analyst@example.org\nDate: ")
    assert "Subject: [newswatch] New: Le Maroc acquiert des drones israéliens" in text
    assert "Message-ID: <newswatch.alert-7." in text
    assert "Why: Actors + Defence: Maroc, Israël" in text
    assert "<a href" not in text


@pytest.mark.parametrize(
    ("items", "kwargs", "complaint"),
    [
        ([], {}, "at least one item"),
        ([make_item()], {"to": []}, "at least one recipient"),
        ([make_item()], {"sender": "newswatch"}, "with a domain"),
        ([make_item()], {"to": ["a@example.org\r\nBcc: x@y"]}, "linefeed"),
    ],
)
def test_bad_arguments_are_refused(
    items: list[AlertItem], kwargs: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        build(items, **kwargs)


@pytest.mark.parametrize(
    "title",
    [
        "المغرب وإسرائيل يوقعان اتفاقية دفاعية لتصنيع الطائرات المسيرة في المملكة",
        "Le Maroc et Israël signent un accord de défense sur les drones et la cyberdéfense",
        "Morocco and Israel sign (defence) agreement <drones> covering air-defence systems",
        "=?utf-8?q?Looks_encoded?= but is a title",
    ],
)
def test_long_subjects_arrive_exactly_as_written(title: str) -> None:
    msg = round_trip(build([make_item(title=title)]))

    assert msg["Subject"] == f"[newswatch] New: {title}"


LONG_NAMES = [
    "مرصد الأخبار المغربية الإسرائيلية للدفاع والأمن والتعاون العسكري",
    "Observatoire défense Maroc–Israël équipe الإسرائيلية d'analyse watch nom watch défense",
    "équipe Observatoire nom Israël للدفاع مرصد alerts",
]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_long_non_ascii_display_names_keep_every_space(name: str) -> None:
    # These names lose a space in Python 3.11's own folder ("للدفاع مرصد" -> "للدفاعمرصد").
    msg = build([make_item()], sender=f"{name} <alerts@news.example.org>", to=[f"{name} <a@x.org>"])
    raw = msg.as_bytes(policy=policy.SMTP)
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
    # An RFC 2047 reader (what mail clients do): whitespace between encoded words is dropped.
    parsed = BytesParser(policy=policy.compat32).parsebytes(raw)
    for header, address in (("From", "alerts@news.example.org"), ("To", "a@x.org")):
        decoded = str(make_header(decode_header(parsed[header])))
        assert decoded == f"{name} <{address}>"


def test_two_recipients_with_display_names_stay_two() -> None:
    to = ["وحدة التحليل <analyst@example.org>", "Équipe défense <defence@example.org>"]
    msg = round_trip(build([make_item()], to=to))
    assert [a.addr_spec for a in msg["To"].addresses] == [
        "analyst@example.org",
        "defence@example.org",
    ]


def test_subject_template_fills_count_topic_and_page() -> None:
    items = [make_item(), make_item(alert_id=8, url="https://x.example/b")]
    msg = round_trip(
        build(items, subject_template="[nw] {count} new: {topic} ({page}/{pages})", page=(2, 3))
    )
    assert msg["Subject"] == "[nw] 2 new: Morocco–Israel defence (2/3)"
    assert "(part 2 of 3)" in parts(msg)[0]
