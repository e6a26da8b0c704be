"""Alert messages: what an analyst reads about new articles that matched a topic.

This module decides what a message says (subject, plain text, HTML, the short chat form, a
stable Message-ID) and returns a neutral :class:`~pipelines.channels.Message`; a channel
decides how it travels (``pipelines/channels/email.py`` writes the MIME). The parts are
Jinja2 templates (``pipelines/templates/``, overridable by ``[alerts] templates``) filled
with the values :mod:`pipelines.desk` prepares. Building is kept apart from sending, so
that ``--dry-run`` and ``alerts preview`` show exactly the message that would be sent.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.addresses import sender_domain
from pipelines.channels import Message
from pipelines.desk import Style, item_view, one_line, ordered, safe_link, sections, story_line
from pipelines.templates import load_templates

__all__ = [
    "AlertItem",
    "Outlet",
    "Style",
    "compose_alert",
    "message_id",
    "one_line",
    "render_chat",
    "render_html",
    "render_plain",
    "safe_link",
    "subject",
    "using_style",
]

# A subject line is read in a list of mails: past this length nobody sees the rest anyway.
SUBJECT_TITLE_MAX = 150
_DEFAULT_STYLE = Style()
_STYLE: contextvars.ContextVar[Style] = contextvars.ContextVar("newswatch_style")


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
    why: str = ""  # the match's own one-line reason, when the topic gives one


def compose_alert(
    items: Sequence[AlertItem],
    *,
    sender: str,
    recipients: Mapping[str, tuple[str, ...]],
    subject_prefix: str = "[newswatch]",
    now: datetime | None = None,
    subject_template: str | None = None,
    page: tuple[int, int] | None = None,
    style: Style | None = None,
) -> Message:
    """One message about one item, or a digest about several (``page`` of a long digest).

    Values come from crawled pages, so nothing from an item reaches the subject without
    being folded into one line, and nothing reaches the HTML part unescaped. ``style``
    (time zone, templates) defaults to the one :func:`using_style` set.
    """
    if not items:
        raise ValueError("an alert message needs at least one item")
    msg_id = message_id(items, sender)  # checks the sender first, with the clearer message
    chosen = style or _STYLE.get(_DEFAULT_STYLE)
    return Message(
        kind="alert",
        items=tuple(i.alert_id for i in items),
        subject=subject(items, subject_prefix, template=subject_template, page=page),
        text=render_plain(items, page, chosen),
        html=render_html(items, page, chosen),
        sender=sender,
        recipients=recipients,
        message_id=msg_id,
        date=now or datetime.now(UTC),
        chat=render_chat(items, page, chosen),
    )


@contextlib.contextmanager
def using_style(style: Style) -> Iterator[None]:
    """Messages composed inside this block use ``style`` (the outbox sets the config's)."""
    token = _STYLE.set(style)
    try:
        yield
    finally:
        _STYLE.reset(token)


def style_of(alerts: Any, config_path: Path | str) -> Style:
    """The :class:`Style` of an ``[alerts]`` section."""
    folder = getattr(alerts, "templates", None)
    return Style(
        timezone=getattr(alerts, "timezone", "UTC"),
        templates=str(folder) if folder is not None else None,
        config_path=str(config_path),
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
        story = one_line(item.story_title) if item.story_id is not None else ""
        if item.kind == "update" and story:
            text = f"Update: {_shorten(story, SUBJECT_TITLE_MAX)}"
        elif story and item.story_sources > 1:
            text = f"Story: {_shorten(story, SUBJECT_TITLE_MAX)}"
        else:
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


def _values(
    items: Sequence[AlertItem], page: tuple[int, int] | None, style: Style
) -> dict[str, Any]:
    """What every template receives (docs/alerts.md): the items in the digest's order."""
    chosen = ordered(items) if len(items) > 1 else list(items)
    views = [item_view(item, n, style.timezone) for n, item in enumerate(chosen, start=1)]
    first = items[0]
    return {
        "items": views,
        "digest": len(items) > 1,
        "sections": sections(views),
        "intro": _intro(items, page),
        "page": page[0] if page else 1,
        "pages": page[1] if page else 1,
        "story": story_line(first) if len(items) == 1 else None,
        "story_title": one_line(first.story_title) or None if len(items) == 1 else None,
        "timezone": style.timezone,
    }


def _templates(style: Style) -> Any:
    folder = Path(style.templates) if style.templates else None
    return load_templates(folder, style.config_path)


def render_plain(
    items: Sequence[AlertItem], page: tuple[int, int] | None = None, style: Style | None = None
) -> str:
    """The plain-text part: complete on its own, for clients that never show HTML."""
    chosen = style or _STYLE.get(_DEFAULT_STYLE)
    return str(_templates(chosen).render("alert.txt", _values(items, page, chosen)))


def render_html(
    items: Sequence[AlertItem], page: tuple[int, int] | None = None, style: Style | None = None
) -> str:
    """The HTML part: the same content as the plain part, every value escaped, CSS inlined."""
    chosen = style or _STYLE.get(_DEFAULT_STYLE)
    return str(_templates(chosen).html(_values(items, page, chosen)))


def render_chat(
    items: Sequence[AlertItem], page: tuple[int, int] | None = None, style: Style | None = None
) -> str:
    """The short form for chat channels: title, outlet, link, one line of why."""
    chosen = style or _STYLE.get(_DEFAULT_STYLE)
    return str(_templates(chosen).render("chat.txt", _values(items, page, chosen))).strip()


def _intro(items: Sequence[AlertItem], page: tuple[int, int] | None = None) -> str:
    topics = ", ".join(dict.fromkeys(one_line(i.topic_title) or i.topic for i in items))
    noun = "article" if len(items) == 1 else "articles"
    part = f" (part {page[0]} of {page[1]})" if page and page[1] > 1 else ""
    if len(items) == 1 and items[0].kind == "update":
        return f"New reports on a story you follow, for: {topics}"
    return f"{len(items)} new {noun} for: {topics}{part}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
