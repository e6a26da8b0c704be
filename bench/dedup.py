"""How one dedup lookup scales with the size of the dataset: 1,000, 10,000, 100,000 stored
articles, measured in one run. Prints ratios; the goal is a lookup at 100,000 articles costing
at most twice a lookup at 1,000 (the index is read by hash, so it should not grow).

    .venv/bin/python bench/dedup.py [--lookups 200]

Stored articles are synthetic: each is a set of sampled shingle hashes, as the index holds
them (hashing 30 million real 5-grams would only slow the set-up down). 30% of them also
carry the shingles of boilerplate sentences (a newsletter line, a background sentence on
the Abraham Accords), so that some hashes have a document frequency in the tens of
thousands, as common phrasing does in a real dataset. The looked-up texts are real: copies
and non-copies of a few indexed articles, each with one of those boilerplate sentences.

Ends with the line ``lookup 100k/1k: X``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlite_utils

from pipelines.dedup import SAMPLE_MOD, find_duplicate, index_document, shingle_hashes
from pipelines.seeds import seed_files
from pipelines.store import Store, open_store, transaction

SIZES = (1_000, 10_000, 100_000)
HASHES_PER_ARTICLE = 80  # a 320-word article, sampled one shingle in four
BOILERPLATE = [
    "Sign up for our daily newsletter to receive the latest news from the region every morning.",
    "Morocco and Israel normalised relations in December 2020 under the Abraham Accords,"
    " brokered by the United States.",
    "Abonnez-vous à notre lettre d'information pour recevoir chaque matin l'essentiel de"
    " l'actualité marocaine.",
    "Le Maroc et Israël ont normalisé leurs relations en décembre 2020 dans le cadre des accords"
    " d'Abraham.",
]
COMMON_SHARE = 0.3


def random_hashes(rng: random.Random, n: int) -> list[int]:
    """Signed 64-bit values that pass the sampling test, like the index's own."""
    return [rng.getrandbits(62) * SAMPLE_MOD - 2**63 for _ in range(n)]


def fill(db: sqlite_utils.Database, rng: random.Random, start: int, stop: int) -> None:
    """Articles start..stop-1: a minimal row each and their shingles, in one transaction."""
    common = [sorted(shingle_hashes(sentence)) for sentence in BOILERPLATE]
    rows: list[tuple[int, str, str]] = []
    postings: list[tuple[int, int]] = []
    for article_id in range(start, stop):
        rows.append((article_id, f"https://bench.example/{article_id}", f"bench/{article_id}"))
        hashes = random_hashes(rng, HASHES_PER_ARTICLE)
        if rng.random() < COMMON_SHARE:
            hashes += rng.choice(common)
        postings.extend((h, article_id) for h in set(hashes))
    postings.sort()  # in key order: each page of the index is written once per batch
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO articles (id, url, url_key, source, text, fetched_at)"
            " VALUES (?, ?, ?, 'bench', '', '2026-01-01T00:00:00+00:00')",
            rows,
        )
        db.conn.executemany("INSERT INTO shingles (hash, article_id) VALUES (?, ?)", postings)


def queries(store: Store) -> list[str]:
    """Real texts stored under ids above the synthetic ones, and texts to look up."""
    texts = []
    for i, f in enumerate(seed_files()):
        paragraphs = [p.strip() for p in f.read_text(encoding="utf-8").split("\n") if p.strip()]
        body = [p for p in paragraphs if len(p.split()) >= 20][:6]
        article_id = 10_000_000 + i
        store.db.execute(
            "INSERT INTO articles (id, url, url_key, source, text, fetched_at)"
            " VALUES (?, ?, ?, 'bench', ?, '2026-01-01T00:00:00+00:00')",
            [article_id, f"seed-{i}", f"seed-{i}", "\n".join(body)],
        )
        index_document(store, article_id, "\n".join(body))
        boiler = BOILERPLATE[i % len(BOILERPLATE)]
        texts.append("\n".join([*body[1:], boiler]))  # a copy without its first paragraph
        texts.append("\n".join([body[0], boiler, BOILERPLATE[(i + 1) % len(BOILERPLATE)]]))
    return texts


def time_lookups(store: Store, texts: list[str], lookups: int) -> float:
    """Median seconds of one lookup, over `lookups` lookups cycling through `texts`."""
    times = []
    for i in range(lookups):
        start = time.perf_counter()
        find_duplicate(store, texts[i % len(texts)])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(20261121)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        db = store.db
        # The benchmark's own throwaway file: no crash safety needed while filling it.
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-100000")  # 100 MB: the index of 100,000 articles
        texts = queries(store)
        stored = 0
        for size in SIZES:
            started = time.perf_counter()
            fill(db, rng, stored + 1, size + 1)
            stored = size
            db.execute("ANALYZE")
            built = time.perf_counter() - started
            time_lookups(store, texts, len(texts))  # warm the page cache
            results[size] = time_lookups(store, texts, args.lookups)
            print(
                f"{size:>7,} articles: {1000 * results[size]:.3f} ms per lookup"
                f" (filled in {built:.1f} s)"
            )
        db.close()
    print(f"lookup 10k/1k: {results[10_000] / results[1_000]:.2f}")
    print(f"lookup 100k/1k: {results[100_000] / results[1_000]:.2f}")


if __name__ == "__main__":
    main()
