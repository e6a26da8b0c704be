"""The seed corpus: the articles the user already has, shipped with newswatch.

Seed files are stored as they are, boilerplate included (``source = 'seed'``,
``url = 'seed:<file name>'``); they are what later articles are deduplicated against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable

import py3langid

from pipelines.clock import utcnow
from pipelines.dedup import content_hash, index_document
from pipelines.models import Article
from pipelines.store import Store
from pipelines.topics import Topic, match_topics


def seed_files() -> list[Traversable]:
    folder = files("pipelines") / "seed_corpus"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".txt")), key=lambda f: f.name)


def import_seeds(store: Store, topics: Sequence[Topic]) -> int:
    """Store every seed file not yet stored; returns how many were added. Idempotent."""
    added = 0
    for f in seed_files():
        url = f"seed:{f.name}"
        if store.has_article(url):
            continue
        text = f.read_text(encoding="utf-8").strip()
        title = next((line.strip() for line in text.splitlines() if line.strip()), f.name)
        lang, _ = py3langid.classify(text)
        article = Article(url=url, title=title[:300], text=text, lang=str(lang), site="seed")
        matches = match_topics(article, topics)
        now = utcnow()
        with store.transaction():
            row_id = store.insert_article(
                {
                    "url": url,
                    "url_key": url,
                    "final_url": url,
                    "source": "seed",
                    "lang": article.lang,
                    "title": article.title,
                    "text": text,
                    "fetched_at": now,
                    "updated_at": now,
                    "content_hash": content_hash(text),
                    "relevant": int(bool(matches)),
                    "found_via": "seed",
                    "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
                },
            )
            index_document(store, row_id, text)
        added += 1
    return added
