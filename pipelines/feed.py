"""An Atom feed of a topic's latest matches, for feed readers (``newswatch feed``).

One entry per relevant original article, or per story when the dataset has stories (the
story's earliest report is the entry's link). Entry ids are ``tag:`` URIs built from the
dataset's own identity and the article's (or story's) id, so a reader sees the same entry
across runs, and never mistakes an entry of another dataset for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from feedgen.feed import FeedGenerator

from pipelines.desk import domain_of, excerpt, group_label, one_line, parse_moment, safe_link
from pipelines.errors import UsageError

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.store import Store
    from pipelines.topics import Topic

FEED_LIMIT = 50


def tag_uri(identity: tuple[str, str], path: str) -> str:
    """``tag:newswatch.invalid,2026-11-18:<dataset>/<path>`` (RFC 4151)."""
    dataset, created = identity
    return f"tag:newswatch.invalid,{created[:10]}:{dataset}/{path}"


def find_topic(config: Config, name: str | None) -> Topic:
    """The topic named ``name`` (the only one when None); a UsageError lists the names."""
    names = ", ".join(t.name for t in config.topics)
    if name is None:
        if len(config.topics) == 1:
            return config.topics[0]
        raise UsageError(f"several topics: choose one with --topic ({names})")
    for topic in config.topics:
        if topic.name == name:
            return topic
    raise UsageError(f"no topic named {name!r} (topics: {names})")


def _moment(value: str | None) -> datetime | None:
    moment = parse_moment(value)
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.astimezone(UTC)


def _why(match: dict[str, Any]) -> str:
    if one_line(match.get("why")):
        return one_line(match.get("why"))
    terms: dict[str, list[str]] = match.get("terms") or {}
    groups = " + ".join(group_label(g) for g, found in terms.items() if found)
    found = ", ".join(dict.fromkeys(one_line(t) for ts in terms.values() for t in ts))
    return f"{groups}: {found}" if groups else ""


def build_feed(
    store: Store, config: Config, topic_name: str | None, limit: int = FEED_LIMIT
) -> bytes:
    """The Atom document (UTF-8) of the topic's latest items, newest first."""
    topic = find_topic(config, topic_name)
    identity = store.dataset_identity()
    titles = {s.name: s.title or s.name for s in config.sources}
    rows = store.feed_items(topic.name, limit)
    feed = FeedGenerator()
    feed.id(tag_uri(identity, f"topic/{topic.name}"))
    feed.title(f"newswatch: {one_line(topic.title) or topic.name}")
    feed.author({"name": "newswatch"})
    feed.generator("newswatch")
    feed.subtitle(f"The latest articles that matched the topic {topic.name!r}")
    latest = [_moment(identity[1])]
    for row in rows:
        story = row.get("story")
        entry = feed.add_entry(order="append")
        path = f"story/{story['id']}" if story else f"article/{row['id']}"
        entry.id(tag_uri(identity, path))
        title = one_line(row["title"]) or one_line(row["url"])
        if story and one_line(story.get("title")):
            title = one_line(story["title"])
        entry.title(title)
        link = safe_link(row["url"])
        if link:
            entry.link(href=link, rel="alternate")
        when = _moment(story["updated"] if story else None) or _moment(
            row["published"] or row["fetched_at"]
        )
        when = when or _moment(identity[1])
        entry.updated(when)
        published = _moment(row["published"])
        if published is not None:
            entry.published(published)
        latest.append(when)
        source = titles.get(row["source"], row["source"])
        entry.author({"name": f"{one_line(source)} ({domain_of(row['url'])})"})
        parts = [excerpt(str(row["match"].get("snippet", "")))]
        if story and story["sources"] > 1:
            langs = story["languages"]
            in_langs = f" in {langs} languages" if langs > 1 else ""
            parts.append(f"Covered by {story['sources']} sources{in_langs}.")
        if _why(row["match"]):
            parts.append(f"Why: {_why(row['match'])}")
        entry.summary(" ".join(p for p in parts if p))
        if row["lang"]:
            entry.category(term=one_line(row["lang"]), label="language")
    feed.updated(max(m for m in latest if m is not None))
    return bytes(feed.atom_str(pretty=True))
