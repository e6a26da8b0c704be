"""What an alert shows, prepared for its templates: one line per value, dates in the reader's
time zone, an excerpt that starts at a sentence with the matched terms marked, the outlets
of the item's story folded under it, and why it matched in words.

Every value from a crawled page is folded into one line here (no linefeed reaches a
template); escaping is the HTML template's (Jinja2 autoescape).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pipelines.mail import AlertItem, Outlet

RTL_LANGS = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "ckb", "dv"})
_SENTENCE_END = re.compile(r"[.!?؟。…](?:[\"'»”’)\]]*)\s+(?=\S)")
_MIN_EXCERPT = 40  # characters left after cutting to a sentence, else keep the whole
_MAX_WHY_TERMS = 6
_OUTLET_LABELS = {
    "article": "Also reported by",
    "also-covered": "Also covered by",
    "copy": "Copies",
    "reaction": "Reactions (context)",
}


@dataclass(frozen=True)
class Style:
    """How alerts are rendered for this reader: ``[alerts] timezone`` and ``templates``."""

    timezone: str = "UTC"
    templates: str | None = None  # a folder whose templates win over the shipped ones
    config_path: str = "newswatch.toml"


def one_line(value: str | None) -> str:
    """All whitespace collapsed, control characters dropped (no header or line injection)."""
    collapsed = " ".join((value or "").split())
    return "".join(ch for ch in collapsed if unicodedata.category(ch) != "Cc")


def safe_link(url: str | None) -> str | None:
    """The URL if a mail client may follow it (http/https with a host), else None."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return (url or "").strip()
    return None


def domain_of(url: str | None) -> str:
    try:
        host = urlsplit((url or "").strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def parse_moment(value: str | None) -> datetime | date | None:
    """A stored date: a datetime (naive read as UTC), a bare date, or None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def human_date(value: str | None, timezone: str) -> str | None:
    """``18 Nov 2026, 10:35`` in ``timezone``; a bare date as ``18 Nov 2026``; None if unknown."""
    moment = parse_moment(value)
    if moment is None:
        return one_line(value) or None
    if not isinstance(moment, datetime):
        return f"{moment.day} {moment:%b %Y}"
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.day} {local:%b %Y, %H:%M}"


def sort_key(value: str | None) -> float:
    """Newest first sorts by this descending; an unknown date sorts last."""
    moment = parse_moment(value)
    if moment is None:
        return float("-inf")
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.timestamp()


def direction(lang: str | None, text: str) -> str:
    """``rtl`` for Arabic, Hebrew...; ``ltr`` for a known other language; else ``auto``."""
    code = (lang or "").split("-")[0].lower()
    if code in RTL_LANGS:
        return "rtl"
    if code:
        return "ltr"
    strong = next((unicodedata.bidirectional(c) for c in text if c.isalpha()), "L")
    return "rtl" if strong in ("R", "AL") else "auto"


def excerpt(snippet: str) -> str:
    """The snippet from a sentence's start where one begins inside it; else marked as cut."""
    text = one_line(snippet).strip().lstrip("….").strip()
    if not text:
        return ""
    first = next((c for c in text if c.isalpha()), "")
    if first and first.islower():
        found = _SENTENCE_END.search(text)
        if found and len(text) - found.end() >= _MIN_EXCERPT:
            return text[found.end() :]
        return "…" + text
    return text


def _fold(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[:1] or ch
    low = base.lower()
    return low[0] if len(low) == 1 else base


def highlight(text: str, terms: Iterable[str]) -> list[dict[str, Any]]:
    """``text`` cut into segments, ``mark`` set on those that are matched terms (case and
    accents ignored, whole words only)."""
    wanted = sorted({one_line(t) for t in terms if one_line(t)}, key=len, reverse=True)
    if not text or not wanted:
        return [{"text": text, "mark": False}] if text else []
    folded = "".join(_fold(c) for c in text)
    pattern = "|".join(re.escape("".join(_fold(c) for c in t)) for t in wanted)
    segments: list[dict[str, Any]] = []
    at = 0
    for found in re.finditer(rf"(?<!\w)(?:{pattern})(?!\w)", folded):
        if found.start() > at:
            segments.append({"text": text[at : found.start()], "mark": False})
        segments.append({"text": text[found.start() : found.end()], "mark": True})
        at = found.end()
    if at < len(text):
        segments.append({"text": text[at:], "mark": False})
    return segments


def group_label(group: str) -> str:
    words = one_line(group.replace("_", " ").replace("-", " "))
    return words[:1].upper() + words[1:]


def why_line(item: AlertItem) -> str:
    """The match's own ``why`` when it has one, else "Morocco + Israel + defence: a, b, c"."""
    if one_line(item.why):
        return one_line(item.why)
    groups = [group_label(g) for g, found in item.terms.items() if found]
    terms = list(dict.fromkeys(one_line(t) for found in item.terms.values() for t in found))
    if not groups:
        return ""
    shown = ", ".join(t for t in terms[:_MAX_WHY_TERMS] if t)
    more = f" (+{len(terms) - _MAX_WHY_TERMS})" if len(terms) > _MAX_WHY_TERMS else ""
    return f"{' + '.join(groups)}: {shown}{more}"


def story_line(item: AlertItem) -> str | None:
    """``covered by 5 sources in 3 languages`` for an item of a story of several sources."""
    if item.story_id is None or item.story_sources < 2:
        return None
    langs = len(item.story_languages)
    in_langs = f" in {langs} language{'s' if langs != 1 else ''}" if langs > 1 else ""
    return f"covered by {item.story_sources} sources{in_langs}"


def _outlet(outlet: Outlet, timezone: str) -> dict[str, Any]:
    return {
        "title": one_line(outlet.title) or one_line(outlet.url),
        "url": one_line(outlet.url),
        "href": safe_link(outlet.url),
        "source": one_line(outlet.source),
        "domain": one_line(outlet.domain) or domain_of(outlet.url),
        "lang": one_line(outlet.lang) or None,
        "date": human_date(outlet.published, timezone),
        "dir": direction(outlet.lang, outlet.title),
    }


def outlet_groups(item: AlertItem, timezone: str) -> list[dict[str, Any]]:
    """The item's story outlets by kind, then the copies found by dedup (URLs only)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for outlet in item.outlets:
        if outlet.article_id == item.article_id:
            continue
        groups.setdefault(outlet.kind, []).append(_outlet(outlet, timezone))
    known = {o["url"] for entries in groups.values() for o in entries}
    for url in item.copies:
        if one_line(url) not in known:
            entry = {"title": one_line(url), "url": one_line(url), "href": safe_link(url)}
            groups.setdefault("copy", []).append(
                {
                    **entry,
                    "source": "",
                    "domain": domain_of(url),
                    "lang": None,
                    "date": None,
                    "dir": "ltr",
                }
            )
    return [
        {"kind": kind, "label": _OUTLET_LABELS.get(kind, kind.capitalize()), "entries": entries}
        for kind in (*_OUTLET_LABELS, *sorted(set(groups) - set(_OUTLET_LABELS)))
        if (entries := groups.get(kind))
    ]


def item_view(item: AlertItem, number: int, timezone: str) -> dict[str, Any]:
    """The values one item's templates use (docs/alerts.md lists them)."""
    title = one_line(item.title) or one_line(item.url)
    text = excerpt(item.snippet)
    terms = [t for found in item.terms.values() for t in found]
    return {
        "number": number,
        "anchor": f"item-{number}",
        "kind": item.kind,
        "alert_id": item.alert_id,
        "article_id": item.article_id,
        "title": title,
        "url": one_line(item.url),
        "href": safe_link(item.url),
        "domain": domain_of(item.url),
        "source": one_line(item.source),
        "lang": one_line(item.lang) or None,
        "dir": direction(item.lang, item.title),
        "date": human_date(item.published, timezone),
        "topic": one_line(item.topic_title) or one_line(item.topic),
        "excerpt": text,
        "excerpt_marked": highlight(text, terms),
        "why": why_line(item),
        "story": story_line(item),
        "story_title": one_line(item.story_title) or None,
        "outlets": outlet_groups(item, timezone),
        "relevant_command": f"newswatch feedback {item.article_id} --relevant",
        "not_relevant_command": f"newswatch feedback {item.article_id} --not-relevant",
    }


def ordered(items: Sequence[AlertItem]) -> list[AlertItem]:
    """A digest's order: by topic, then language, then newest first; a topic (and a
    language within it) comes before another when its newest item is newer."""
    newest_topic: dict[str, float] = {}
    newest_lang: dict[tuple[str, str], float] = {}
    for item in items:
        key = sort_key(item.published)
        newest_topic[item.topic] = max(newest_topic.get(item.topic, key), key)
        pair = (item.topic, item.lang or "")
        newest_lang[pair] = max(newest_lang.get(pair, key), key)
    first_seen = {item.topic: n for n, item in reversed(list(enumerate(items)))}
    return sorted(
        items,
        key=lambda i: (
            -newest_topic[i.topic],
            first_seen[i.topic],
            -newest_lang[(i.topic, i.lang or "")],
            i.lang or "~",
            -sort_key(i.published),
            i.alert_id,
        ),
    )


def sections(views: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The digest's list at the top: topics, each with its languages, each with its items."""
    out: list[dict[str, Any]] = []
    for view in views:
        if not out or out[-1]["topic"] != view["topic"]:
            out.append({"topic": view["topic"], "languages": []})
        langs = out[-1]["languages"]
        if not langs or langs[-1]["lang"] != view["lang"]:
            langs.append({"lang": view["lang"], "items": []})
        langs[-1]["items"].append(view)
    return out
