"""Alert emails: what an analyst reads about new articles that matched a topic.

Building a message is kept apart from sending it (``transport.py``), so that ``--dry-run``
prints exactly the message that would have been sent. The standard library's ``email``
package writes the MIME; this module only decides what the message says.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from urllib.parse import urlsplit

# A subject line is read in a list of mails: past this length nobody sees the rest anyway.
SUBJECT_TITLE_MAX = 150
# Shown by render_text(): what an operator checks before letting a real send go out.
_SHOWN_HEADERS = ("From", "To", "Date", "Subject", "Message-ID")
_UNKNOWN = "unknown"
# UTF-8 bytes per encoded word of a display name: 45 bytes make 60 base64 characters, and
# with "=?utf-8?b?" and "?=" the 72 that fit a folded header line (RFC 2047 allows 75).
_NAME_CHUNK_BYTES = 45


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


def build_message(
    items: Sequence[AlertItem],
    *,
    sender: str,
    to: Sequence[str],
    subject_prefix: str = "[newswatch]",
    now: datetime | None = None,
    subject_template: str | None = None,
    page: tuple[int, int] | None = None,
) -> EmailMessage:
    """One email about one item, or a digest about several (``page`` of a long digest).

    Values come from crawled pages, so nothing from an item reaches a header without
    being folded into one line, and nothing reaches the HTML part unescaped.
    A naive ``now`` is taken as UTC.
    """
    if not items:
        raise ValueError("an alert email needs at least one item")
    if not to:
        raise ValueError("an alert email needs at least one recipient")
    msg_id = message_id(items, sender)  # checks the sender first, with the clearer message
    msg = EmailMessage()
    _set_subject(msg, subject(items, subject_prefix, template=subject_template, page=page))
    set_addresses(msg, "From", [sender])
    set_addresses(msg, "To", to)
    msg["Date"] = format_datetime(_as_utc(now or datetime.now(UTC)))
    msg["Message-ID"] = msg_id
    # RFC 3834: tells vacation responders and ticket systems not to answer an alert.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_plain(items, page))
    msg.add_alternative(render_html(items, page), subtype="html")
    return msg


def render_text(message: EmailMessage) -> str:
    """The main headers and the plain-text part, for ``--dry-run`` to print."""
    lines = [f"{name}: {message[name]}" for name in _SHOWN_HEADERS if message[name] is not None]
    body = message.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    return "\n".join(lines) + "\n\n" + text


def subject(
    items: Sequence[AlertItem],
    prefix: str = "[newswatch]",
    *,
    template: str | None = None,
    page: tuple[int, int] | None = None,
) -> str:
    """``New: <title>`` for one item, ``<n> new: <topic titles>`` for a digest.

    A ``template`` ([alerts] subject) replaces both; its placeholders are checked when
    the configuration is loaded (``SUBJECT_FIELDS`` in ``pipelines/config.py``).
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


def _set_subject(msg: EmailMessage, text: str) -> None:
    """Set Subject so that the reader sees exactly ``text``.

    Python 3.11's header folder mangles long subjects: it drops the space where it splits
    a non-ASCII one into encoded words ("وإسرائيل يوقعان" arrives as "وإسرائيليوقعان"),
    and may push an ASCII one to a continuation line that parsers read with a leading
    space. The older ``email.header.Header`` encoder folds both correctly, and
    ``set_raw`` stores its output untouched. A title that itself looks like an encoded
    word ("=?utf-8?q?...?=") is encoded too, or clients would decode it.
    """
    charset = "us-ascii" if text.isascii() and "=?" not in text else "utf-8"
    msg.set_raw("Subject", Header(text, charset, header_name="Subject").encode(linesep="\n"))


def set_addresses(msg: EmailMessage, name: str, addresses: Sequence[str]) -> None:
    """Set From or To so that display names arrive exactly as configured.

    Python 3.11's folder drops the space where it splits a long non-ASCII display name
    between two encoded words ("Israël الإسرائيلية" arrives as "Israëlالإسرائيلية").
    Here every non-ASCII name is encoded whole in base64 words cut after a space, the
    space kept inside the word (RFC 2047 ignores the whitespace *between* encoded words),
    and the address goes on its own line so that no line needs refolding.
    """
    for value in addresses:
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise ValueError(f"{name}: a linefeed or control character in {value!r}")
    parts = []
    for display, address in getaddresses(list(addresses)):
        if not address or "@" not in address:
            raise ValueError(f"{name}: not an email address: {addresses!r}")
        if display.isascii():
            parts.append(formataddr((display, address)))
        else:
            words = "\n ".join(
                f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?="
                for c in _name_chunks(display)
            )
            parts.append(f"{words}\n <{address}>")
    msg.set_raw(name, ",\n ".join(parts))


def _name_chunks(name: str) -> list[str]:
    """Cut a display name into pieces of at most _NAME_CHUNK_BYTES UTF-8 bytes (a space
    included), after a space where possible; a word too long for one piece is cut
    between characters."""
    chunks: list[str] = []
    current = ""
    for word in name.split(" "):
        joined = f"{current} {word}" if current else word
        if len(joined.encode("utf-8")) < _NAME_CHUNK_BYTES:  # room left for a space
            current = joined
            continue
        if current:
            chunks.append(current + " ")
        while len(word.encode("utf-8")) > _NAME_CHUNK_BYTES:
            cut = len(word)
            while len(word[:cut].encode("utf-8")) > _NAME_CHUNK_BYTES:
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        chunks.append(current)
    return chunks


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sender_domain(sender: str) -> str:
    """The sender's domain, which RFC 5322 suggests as the right-hand side of a Message-ID."""
    domain = address_domain(sender)
    if domain is None:
        raise ValueError(f"sender is not an email address with a domain: {sender!r}")
    return domain


def address_domain(value: str) -> str | None:
    """The domain (ASCII, lower case) of one address, bare or as ``Name <address>``; None
    for anything else: no local part or domain, two addresses, a linefeed."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return None
    found = getaddresses([value])
    if len(found) != 1:
        return None
    local, at, domain = found[0][1].rpartition("@")
    if not local or not at or any(ch.isspace() for ch in local):
        return None
    try:
        domain = domain.strip().lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", domain):
        return None
    return domain
