"""How assigning one article to a story scales with the size of the dataset: 1,000, 10,000
and 100,000 stored articles, measured in one run, and what it costs next to extracting one
page. Prints ratios; the goals: an assignment at 100,000 articles costs at most twice one at
1,000 (candidates come from the story index, recent stories only), and at most 10% of one
extraction (``trafilatura.extract`` on the saved real pages of tests/data/pages/real).

    .venv/bin/python bench/stories.py [--assign 200]

Stored articles are synthetic, made of the labelled set's vocabulary: each synthetic story
is a labelled story (its articles' entities, amounts, dates and words) moved to a random day
of a ten-year span, so the index holds thousands of stories sharing the same people, systems
and places over time, as a real dataset does. They are written straight into the tables
clustering keeps (``stories``, ``story_features``, ``story_keys``, ``story_terms``). The
assigned articles are the labelled set's own, with a random date in the span, through
:meth:`Clusterer.assign` (features, candidates, comparison, writing the link), ten to a
transaction as ``cluster_new`` does (64 there).

Times are CPU time (``time.process_time``), medians: the other work of a shared machine and
the disk's fsync at each commit (the same at every size) stay out of the ratios. Ends with
the lines ``assign 100k/1k: X`` and ``assign/extract: Y``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trafilatura

from pipelines.store import Store, open_store
from pipelines.store.stories import Unassigned
from pipelines.stories.engine import Clusterer
from pipelines.stories.evaluate import default_set, load_set
from pipelines.stories.features import Features

SIZES = (1_000, 10_000, 100_000)
# Assignments per transaction when timed: fewer than cluster_new's BATCH (64), so that a
# commit weighs more here than in a pass, and 200 assignments still give 20 samples.
BATCH_TIMED = 10
SPAN_DAYS = 3650
START = datetime(2016, 1, 1, tzinfo=UTC)
PAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages" / "real"


def templates(clusterer: Clusterer, rows: list[dict[str, Any]]) -> list[list[Features]]:
    """The labelled stories, as lists of their articles' features."""
    by_story: dict[str, list[Features]] = {}
    for row in rows:
        art = _unassigned(row, 0)
        by_story.setdefault(row["story"], []).append(clusterer.features(art, row["text"]))
    return list(by_story.values())


def _unassigned(row: dict[str, Any], article_id: int, published: str | None = None) -> Unassigned:
    return Unassigned(
        article_id, str(row.get("source") or "bench"), row["lang"], row["title"],
        published or row.get("published"), "2020-01-01T00:00:00+00:00", None, True, [],
    )  # fmt: skip


def fill(store: Store, clusterer: Clusterer, stories: list[list[Features]], stop: int) -> None:
    """Synthetic stored articles up to ``stop``, in stories of the labelled set's shapes."""
    rng = random.Random(stop)
    db = store.db
    start = db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0] + 1
    article_id = start
    terms: Counter[str] = Counter()
    with store.transaction():
        while article_id < stop + 1:
            shape = rng.choice(stories)
            day = START + timedelta(days=rng.uniform(0, SPAN_DAYS))
            cursor = db.execute(
                "INSERT INTO stories (first_seen, last_seen, article_count, relevant, title,"
                " languages, sources, created_at, updated_at) VALUES (?, ?, ?, 1, 'bench',"
                " '[]', '[]', ?, ?)",
                [day.isoformat(), day.isoformat(), len(shape), day.isoformat(), day.isoformat()],
            )
            story_id = cursor.lastrowid
            last = day
            for feats in shape:
                last = day + timedelta(hours=rng.uniform(0, 72))
                moment = last.replace(microsecond=0).isoformat()
                moved = replace(feats, published=moment)
                db.execute(
                    "INSERT INTO articles (id, url, url_key, source, lang, title, text,"
                    " published, fetched_at, relevant, story_id) VALUES"
                    " (?, ?, ?, 'bench', ?, 'bench', 'bench', ?, ?, 1, ?)",
                    [article_id, f"https://bench.example/{article_id}",
                     f"bench.example/{article_id}", feats.lang, moment, moment, story_id],
                )  # fmt: skip
                db.execute(
                    "INSERT INTO story_features (article_id, story_id, published, lang,"
                    " features) VALUES (?, ?, ?, ?, ?)",
                    [article_id, story_id, moment, feats.lang, moved.to_json()],
                )
                db.conn.executemany(
                    "INSERT OR IGNORE INTO story_keys (key, story_id, last_seen) VALUES (?, ?, ?)",
                    [(k, story_id, moment) for k in clusterer.keys(moved)],
                )
                terms.update(f"{feats.lang}:{t}" for t in feats.terms)
                article_id += 1
            end = last.replace(microsecond=0).isoformat()
            db.execute("UPDATE story_keys SET last_seen = ? WHERE story_id = ?", [end, story_id])
            db.execute("UPDATE stories SET last_seen = ? WHERE id = ?", [end, story_id])
        terms[""] = article_id - start
        db.conn.executemany(
            "INSERT INTO story_terms (term, df) VALUES (?, ?)"
            " ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
            list(terms.items()),
        )


def time_assignments(
    store: Store, clusterer: Clusterer, rows: list[dict[str, Any]], n: int, size: int
) -> float:
    """Median seconds to assign one labelled article, dated somewhere in the span (CPU
    time: the machine's other work and the disk's fsync on commit left out)."""
    rng = random.Random(n)
    times = []
    arts = []
    for k in range(n):
        row = rng.choice(rows)
        day = START + timedelta(days=rng.uniform(30, SPAN_DAYS - 30))
        article_id = store.insert_article(
            {
                "url": f"https://new.example/{size}/{k}",
                "url_key": f"new.example/{size}/{k}",
                "source": row.get("source") or "new",
                "lang": row["lang"],
                "title": row["title"],
                "text": row["text"],
                "published": day.isoformat(),
                "fetched_at": day.isoformat(),
            }
        )
        arts.append(_unassigned(row, article_id, day.isoformat()))
    # As cluster_new assigns: BATCH_TIMED articles a transaction (one commit), each timed
    # as its share of the batch.
    for start in range(0, n, BATCH_TIMED):
        batch = arts[start : start + BATCH_TIMED]
        started = time.process_time()
        with store.transaction():
            for art in batch:
                clusterer.assign(art)
        times.append((time.process_time() - started) / len(batch))
    return statistics.median(times)


def time_extraction() -> float:
    """Median seconds (CPU) of one precision extraction over the saved real pages."""
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
             for p in sorted(PAGES.glob("*.html.gz"))[:40]]  # fmt: skip
    times = []
    for html in pages:
        started = time.process_time()
        trafilatura.extract(html, with_metadata=True, favor_precision=True, include_comments=False)
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assign", type=int, default=200, help="assignments timed per size")
    args = parser.parse_args()
    rows = load_set(default_set())
    results: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as folder:
        store = open_store(Path(folder) / "bench.db")
        clusterer = Clusterer(store)
        shapes = templates(clusterer, rows)
        for size in SIZES:
            fill(store, clusterer, shapes, size)
            results[size] = time_assignments(store, clusterer, rows, args.assign, size)
            print(f"{size:>7} stored: {results[size] * 1000:.2f} ms per assignment")
        store.close()
    extract = time_extraction()
    print(f"extraction: {extract * 1000:.2f} ms per page (median of the saved real pages)")
    print(f"assign 100k/1k: {results[100_000] / results[1_000]:.2f}")
    print(f"assign/extract: {results[100_000] / extract:.1%}")
    print(json.dumps({"ms": {k: round(v * 1000, 3) for k, v in results.items()}}))


if __name__ == "__main__":
    main()
