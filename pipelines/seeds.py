"""The seed corpus: the articles the user already has, shipped with newswatch.

Seed files are stored as they are, boilerplate included (``source = 'seed'``,
``url = 'seed:<file name>'``); they are what later articles are deduplicated against.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from pipelines.clock import utcnow
from pipelines.dedup import content_hash, index_document
from pipelines.models import Article
from pipelines.topics import Topic, match_topics

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

    from pipelines.store import Store

TITLE_MAX = 110  # characters of a title made from a first sentence

# "18 december 2021 - 21:40 - Marokko", "18 janvier 2023 - 15h20 - Maroc - Ecrit par : A.T":
# a dateline, not a title.
_DATELINE = re.compile(r"^\d{1,2}\s+\w+\s+\d{4}\b.*?\d{1,2}[:h]\d{2}", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[^\s.]{2}[.!?])\s+(?=[A-Z\u00c0-\u00dd\"«“])")


def seed_title(text: str, fallback: str) -> str:
    """A readable title for a seed file: its headline line when it has one, else its first
    sentence (cut at a word near TITLE_MAX characters).

    Datelines (``18 december 2021 - 21:40 - Marokko``), breadcrumb lines that end with the
    headline that follows them (``Home Northern Africa Israel and Morocco sign ...``) and
    short lines (a comment count) are passed over.
    """
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        if _DATELINE.match(line) or len(line.split()) < 4:
            continue
        if any(other != line and line.endswith(other) for other in lines[i + 1 : i + 4]):
            continue  # a breadcrumb trail ending with the headline
        if len(line) <= TITLE_MAX and not line.endswith("."):
            return line  # a headline
        return _shorten(_SENTENCE_END.split(line, maxsplit=1)[0].rstrip(". "))
    return fallback


def _shorten(sentence: str) -> str:
    if len(sentence) <= TITLE_MAX:
        return sentence
    cut = sentence[:TITLE_MAX].rsplit(" ", 1)[0].rstrip(",;:–- ")
    return cut + "…"


def seed_files() -> list[Traversable]:
    folder = files("pipelines") / "seed_corpus"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".txt")), key=lambda f: f.name)


def seed_languages() -> dict[str, dict[str, str]]:
    """``seed_corpus/languages.json``: each shipped seed file's language, as py3langid
    classifies it, with the SHA-256 of the text it was classified on."""
    manifest = files("pipelines") / "seed_corpus" / "languages.json"
    return dict(json.loads(manifest.read_text(encoding="utf-8")))


def import_seeds(store: Store, topics: Sequence[Topic]) -> int:
    """Store every seed file not yet stored; returns how many were added. Idempotent."""
    added = 0
    # The shipped files' languages are in the manifest: a first pass does not load the
    # language model (~0.45 s and ~70 MB) into the crawling process for them. A file the
    # manifest does not know (or knows with other text) is classified, by a model of its
    # own that is let go with this call.
    known = seed_languages()
    identifier: LanguageIdentifier | None = None
    for f in seed_files():
        url = f"seed:{f.name}"
        if store.has_article(url):
            continue
        text = f.read_text(encoding="utf-8").strip()
        title = seed_title(text, f.name)
        entry = known.get(f.name, {})
        if entry.get("sha256") == hashlib.sha256(text.encode()).hexdigest():
            lang = entry["lang"]
        else:
            # Imported here: py3langid brings numpy (~0.07 s) into the crawling process.
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = identifier or LanguageIdentifier.from_model_file(MODEL_FILE)
            lang = str(identifier.classify(text)[0])
        article = Article(url=url, title=title[:300], text=text, lang=lang, site="seed")
        matches = match_topics(article, topics)
        now = utcnow()
        with store.transaction():
            # Asked again inside the write transaction: two crawls starting together on a
            # new dataset (Scrapyd jobs, processes sharing a frontier) import each seed once.
            if store.has_article(url):
                continue
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
