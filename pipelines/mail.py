"""Alert messages: what an analyst reads about new articles that matched a topic.

This module decides what a message says (subject, plain text, HTML, a stable Message-ID)
and returns a neutral :class:`~pipelines.channels.Message`; a channel decides how it
travels (``pipelines/channels/email.py`` writes the MIME). Building is kept apart from
sending, so that ``--dry-run`` prints exactly the message that would have been sent.
"""

from __future__ import annotations

import hashlib
import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipelines.addresses import sender_domain
from pipelines.channels import Message

# A subject line is read in a list of mails: past this length nobody sees the rest anyway.
SUBJECT_TITLE_MAX = 150
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class Outlet:
    """Another article of an item's story, listed under the item."""

    article_id: int
    url: str
    title: str
    source: str  # the source's title
    domain: str
    lang: str | None
    published: str | None
    # "article": a report of the story that matched the topic; "also-covered": in the story,
    # scored below the topic's threshold; "copy": a copy of another article; "reaction":
    # a third party's reaction that recaps the story.
    kind: str = "article"
    copy_of: int | None = None  # for a copy: the article it copies


@dataclass(frozen=True)
class AlertItem:
    """One pending alert (an article that matched a topic), with what the email shows."""

    alert_id: int
    topic: str
    topic_title: str
    article_id: int
    url: str
    title: str
    source: str
    published: str | None
    lang: str | None
    score: float
    terms: dict[str, list[str]]  # group name -> matched terms
    snippet: str
    copies: list[str]  # URLs of the same article found at other sites
    # Stories: "alert" is the first report of a story (or an article without one);
    # "update" lists the story's articles that arrived since it was alerted (``outlets``).
    kind: str = "alert"
    story_id: int | None = None
    story_title: str | None = None
    outlets: tuple[Outlet, ...] = ()
    story_articles: int = 1  # the story's articles, sources and languages so far
    story_sources: int = 1
    story_languages: tuple[str, ...] = ()


def compose_alert(
    items: Sequence[AlertItem],
    *,
    sender: str,
    recipients: Mapping[str, tuple[str, ...]],
    subject_prefix: str = "[newswatch]",
    now: datetime | None = None,
    subject_template: str | None = None,
    page: tuple[int, int] | None = None,
) -> Message:
    """One message about one item, or a digest about several (``page`` of a long digest).

    Values come from crawled pages, so nothing from an item reaches the subject without
    being folded into one line, and nothing reaches the HTML part unescaped.
    """
    if not items:
        raise ValueError("an alert message needs at least one item")
    msg_id = message_id(items, sender)  # checks the sender first, with the clearer message
    return Message(
        kind="alert",
        items=tuple(i.alert_id for i in items),
        subject=subject(items, subject_prefix, template=subject_template, page=page),
        text=render_plain(items, page),
        html=render_html(items, page),
        sender=sender,
        recipients=recipients,
        message_id=msg_id,
        date=now or datetime.now(UTC),
    )


def subject(
    items: Sequence[AlertItem],
    prefix: str = "[newswatch]",
    *,
    template: str | None = None,
    page: tuple[int, int] | None = None,
) -> str:
    """``New: <title>`` for one item, ``<n> new: <topic titles>`` for a digest.

    A ``template`` ([alerts] subject) replaces both; its placeholders are checked when
    the configuration is loaded (``SUBJECT_FIELDS`` in ``pipelines/config/alerts.py``).
    """
    if template is not None:
        return one_line(template.format(**_subject_fields(items, prefix, page)))
    pages = f" ({page[0]}/{page[1]})" if page and page[1] > 1 else ""
    if len(items) == 1:
        item = items[0]
        text = f"New: {_shorten(one_line(item.title) or item.url, SUBJECT_TITLE_MAX)}"
    else:
        topics = ", ".join(dict.fromkeys(one_line(i.topic_title) or i.topic for i in items))
        text = f"{len(items)} new: {_shorten(topics, SUBJECT_TITLE_MAX)}"
    return one_line(f"{prefix} {text}{pages}")


def _subject_fields(
    items: Sequence[AlertItem], prefix: str, page: tuple[int, int] | None
) -> dict[str, object]:
    first = items[0]
    return {
        "count": len(items),
        "topic": ", ".join(dict.fromkeys(one_line(i.topic_title) or i.topic for i in items)),
        "title": _shorten(one_line(first.title) or first.url, SUBJECT_TITLE_MAX),
        "source": ", ".join(dict.fromkeys(one_line(i.source) for i in items)),
        "prefix": prefix,
        "page": page[0] if page else 1,
        "pages": page[1] if page else 1,
    }


def message_id(items: Sequence[AlertItem], sender: str) -> str:
    """A Message-ID that a resend of the same alerts repeats, so mail clients merge them.

    The alert ids alone would repeat after the database is recreated (ids restart at 1)
    and a client could then hide a genuinely new alert as a duplicate; hashing each
    alert's topic and URL with its id keeps the id stable for a resend only.
    """
    keys = sorted(f"{i.alert_id}\x1f{i.topic}\x1f{i.url}" for i in items)
    digest = hashlib.sha256("\x1e".join(keys).encode("utf-8")).hexdigest()[:16]
    label = f"alert-{items[0].alert_id}" if len(items) == 1 else f"digest-{len(items)}"
    return f"<newswatch.{label}.{digest}@{sender_domain(sender)}>"


def one_line(value: str) -> str:
    """Collapse all whitespace (CR, LF, tabs, Unicode separators) and drop control chars.

    This is what makes header injection impossible: a title holding ``"\\r\\nBcc: x"``
    becomes harmless text inside the Subject line.
    """
    collapsed = " ".join(value.split())
    return "".join(ch for ch in collapsed if unicodedata.category(ch) != "Cc")


def safe_link(url: str) -> str | None:
    """The URL if a mail client may follow it (http/https with a host), else None.

    ``javascript:`` or ``data:`` URLs from a hostile page must never become links.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def render_plain(items: Sequence[AlertItem], page: tuple[int, int] | None = None) -> str:
    """The plain-text part: complete on its own, for clients that never show HTML."""
    blocks = [_intro(items, page)]
    for number, item in enumerate(items, start=1):
        heading = f"{number}. " if len(items) > 1 else ""
        blocks.append(_plain_item(item, heading))
    blocks.append("-- \nSent by newswatch.")
    return "\n\n".join(blocks) + "\n"


def render_html(items: Sequence[AlertItem], page: tuple[int, int] | None = None) -> str:
    """The HTML part: the same content as the plain part, every value escaped."""
    body = "\n".join(_html_item(item) for item in items)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n<body>\n'
        f"<p>{_esc(_intro(items, page))}</p>\n{body}\n"
        '<p style="color:#666">Sent by newswatch.</p>\n</body></html>\n'
    )


def _intro(items: Sequence[AlertItem], page: tuple[int, int] | None = None) -> str:
    topics = ", ".join(dict.fromkeys(one_line(i.topic_title) or i.topic for i in items))
    noun = "article" if len(items) == 1 else "articles"
    part = f" (part {page[0]} of {page[1]})" if page and page[1] > 1 else ""
    return f"newswatch found {len(items)} new {noun} for: {topics}{part}"


def _facts(item: AlertItem) -> str:
    return (
        f"Source: {one_line(item.source) or _UNKNOWN} · "
        f"Published: {one_line(item.published or '') or _UNKNOWN} · "
        f"Language: {one_line(item.lang or '') or _UNKNOWN} · "
        f"Score: {item.score:.2f}"
    )


def _term_lines(item: AlertItem) -> list[tuple[str, str]]:
    return [
        (one_line(group), ", ".join(one_line(t) for t in terms))
        for group, terms in item.terms.items()
    ]


def _plain_item(item: AlertItem, heading: str) -> str:
    lines = [f"{heading}{one_line(item.title) or item.url}", f"   {one_line(item.url)}"]
    lines.append(f"   {_facts(item)}")
    lines.append(f"   Topic: {one_line(item.topic_title) or item.topic}")
    if item.terms:
        lines.append("   Why it matched:")
        lines.extend(f"     - {group}: {terms}" for group, terms in _term_lines(item))
    if item.snippet.strip():
        lines.append(f"   Excerpt: {one_line(item.snippet)}")
    if item.copies:
        lines.append("   Also found at:")
        lines.extend(f"     - {one_line(url)}" for url in item.copies)
    return "\n".join(lines)


def _html_item(item: AlertItem) -> str:
    parts = [
        f'<div style="margin:1em 0">\n<h3 dir="auto">{_html_link(item.url, item.title)}</h3>',
        f"<p>{_esc(_facts(item))}<br>Topic: {_esc(one_line(item.topic_title) or item.topic)}</p>",
    ]
    if item.terms:
        rows = "".join(
            f"<li><b>{_esc(group)}</b>: {_esc(terms)}</li>" for group, terms in _term_lines(item)
        )
        parts.append(f"<p>Why it matched:</p>\n<ul>{rows}</ul>")
    if item.snippet.strip():
        parts.append(f'<blockquote dir="auto">{_esc(one_line(item.snippet))}</blockquote>')
    if item.copies:
        rows = "".join(f"<li>{_html_link(url, url)}</li>" for url in item.copies)
        parts.append(f"<p>Also found at:</p>\n<ul>{rows}</ul>")
    return "\n".join(parts) + "\n</div>"


def _html_link(url: str, text: str) -> str:
    label = _esc(one_line(text) or url)
    href = safe_link(url)
    return f'<a href="{_esc(href)}">{label}</a>' if href else label


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
