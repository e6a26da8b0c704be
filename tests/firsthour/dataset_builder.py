"""A small dataset built without a crawl: seeds, relevant articles on three days in three
languages, a copy of a seed, an irrelevant article, and two passes."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.config import load_config
from pipelines.seeds import import_seeds
from pipelines.store import open_store
from pipelines.store.runs import RunTotals

MATCH = [{"topic": "morocco-israel-defence", "score": 40.0, "terms": {}, "snippet": "..."}]
ARTICLES = [
    # source, lang, title, published, relevant, copies seed 1
    ("bladi", "fr", "Le Maroc commande une batterie Barak MX", "2026-11-18T10:00:00+01:00", 1, 0),
    ("bladna", "nl", "Marokko en Israël: akkoord over cyberdefensie", "2026-11-20", 1, 0),
    ("trends", "en", "IDF chief meets FAR commander in Rabat", "2026-11-16T08:00:00+00:00", 1, 0),
    ("trends", "en", "Élévation: un été à Essaouira", "2026-11-16T09:00:00+00:00", 0, 0),
    ("bladi", "fr", "Défense : Rabat et Tel-Aviv élargissent leur coopération", "2026-11-17", 1, 1),
]
RELEVANT_DAYS = ["2026-11-16", "2026-11-18", "2026-11-20"]


def make_dataset(tmp_path: Path) -> Path:
    """The config file of a dataset holding ARTICLES (ids 6..10 after the 5 seeds)."""
    cfg = tmp_path / "nw.toml"
    cfg.write_text(
        '[store]\npath = "nw.db"\n[[sources]]\nname = "bladi"\nfeeds = ["http://127.0.0.1:9/f"]\n',
        encoding="utf-8",
    )
    config = load_config(cfg)
    with open_store(config.store_path) as store:
        import_seeds(store, config.topics)
        for i, (source, lang, title, published, relevant, copy) in enumerate(ARTICLES):
            with store.transaction():
                store.insert_article(
                    {
                        "url": f"http://example.org/{i}",
                        "url_key": f"example.org/{i}",
                        "source": source,
                        "lang": lang,
                        "title": title,
                        "text": f"text {i}",
                        "published": published,
                        "fetched_at": "2026-11-21T10:00:00+00:00",
                        "relevant": relevant,
                        "topics": json.dumps(MATCH if relevant else []),
                        "duplicate_of": 2 if copy else None,
                        "overlap": 0.97 if copy else None,
                        "found_via": "feed",
                    }
                )
        for errors in (0, 2):
            run_id = store.start_run()
            counts = {"requests": 5, "new": 2, "relevant": 1, "errors": {"refused": errors}}
            store.finish_run(run_id, exit_code=0, totals=RunTotals(), sources={"bladi": counts})
    return cfg
