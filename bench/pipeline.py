"""Where the time of one page goes: newswatch's whole processing of a page (extract, dedup,
topics, one SQLite transaction) against bare ``trafilatura.extract`` on the same pages,
measured side by side in one run. Prints ratios, not seconds: seconds on a shared machine
are noise, ratios measured together are not.

    .venv/bin/python bench/pipeline.py [--rounds 3]

Ends with the line ``pipeline/bare: R`` (about 1.1-1.3: extraction dominates, as it should).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from pipelines.config import parse_config
from pipelines.models import Page
from pipelines.process import ProcessOptions, process_page
from pipelines.seeds import import_seeds
from pipelines.store import Store, open_store

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
PAGES = DATA / "real"  # <id>.html.gz beside <id>.json


def load_pages() -> list[tuple[str, bytes]]:
    truth = json.loads((DATA / "real-ground-truth.json").read_text(encoding="utf-8"))
    return [
        (meta["url"], gzip.decompress((PAGES / f"{key}.html.gz").read_bytes()))
        for key, meta in sorted(truth.items())
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = load_pages()
    topics = parse_config({}, Path("bench.toml")).topics
    bare_total = pipeline_total = 0.0
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "bench.db")
            import_seeds(store, topics)
            options = ProcessOptions(topics=topics)

            def bare() -> None:
                for url, html in pages:
                    trafilatura.extract(
                        html,
                        url=url,
                        favor_precision=True,
                        include_comments=False,
                        with_metadata=True,
                    )

            def pipeline(store: Store = store, options: ProcessOptions = options) -> None:
                for url, html in pages:
                    page = Page(url=url, final_url=url, body=html, source="b")
                    process_page(store, page, options)

            # Alternate the order so that neither side always runs on a warm cache.
            first, second = (bare, pipeline) if round_no % 2 == 0 else (pipeline, bare)
            t1, t2 = timed(first), timed(second)
            bare_total += t1 if first is bare else t2
            pipeline_total += t2 if first is bare else t1
            store.close()
    n = len(pages) * args.rounds
    print(f"pages: {len(pages)} real pages x {args.rounds} rounds")
    print(f"bare trafilatura.extract: {1000 * bare_total / n:.1f} ms/page")
    print(f"newswatch process_page:   {1000 * pipeline_total / n:.1f} ms/page")
    print(f"pipeline/bare: {pipeline_total / bare_total:.2f}")


if __name__ == "__main__":
    main()
