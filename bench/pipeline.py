"""Where the time of one page goes: newswatch's whole processing of a page against bare
trafilatura on the same pages, side by side in one run, on one core.

newswatch's side is split as a pass splits it: ``prepare_page`` (decode, trafilatura,
metadata, language, topics, dedup fingerprint: what the extraction pool's workers do) and
``store_page`` (the writer: the store's reads and one transaction per article). The bare
side is ``trafilatura.extract(html, with_metadata=True, favor_precision=True,
include_comments=False)`` (bench/bare.py). Prints ratios, not seconds: seconds on a shared
machine are noise, ratios measured together are not.

    .venv/bin/python bench/pipeline.py [--rounds 3]

Ends with the line ``pipeline/bare: R``; ``prepare/bare`` is what a worker costs per page.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bare import bare_extract, load_pages

from pipelines.config import parse_config
from pipelines.models import Page
from pipelines.process import ProcessOptions, prepare_page, store_page
from pipelines.seeds import import_seeds
from pipelines.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = load_pages()
    topics = parse_config({}, Path("bench.toml")).topics
    options = ProcessOptions(topics=topics)
    for url, html in pages[:3]:  # warm up: the language model, lazy imports, caches
        prepare_page(Page(url=url, final_url=url, body=html, source="b"), options)
        bare_extract(html, url)
    bare_total = prepare_total = store_total = 0.0
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "bench.db")
            import_seeds(store, topics)
            for i, (url, html) in enumerate(pages):
                page = Page(url=url, final_url=url, body=html, source="b")
                # Alternate the order so that neither side always runs on a warm cache.
                if (i + round_no) % 2:
                    start = time.process_time()
                    bare_extract(html, url)
                    bare_total += time.process_time() - start
                start = time.process_time()
                prepared = prepare_page(page, options)
                middle = time.process_time()
                store_page(store, page, prepared, options)
                end = time.process_time()
                prepare_total += middle - start
                store_total += end - middle
                if not (i + round_no) % 2:
                    start = time.process_time()
                    bare_extract(html, url)
                    bare_total += time.process_time() - start
            store.close()
    n = len(pages) * args.rounds
    print(f"pages: {len(pages)} real pages x {args.rounds} rounds, CPU time")
    print(f"bare trafilatura.extract: {1000 * bare_total / n:.1f} ms/page")
    print(f"newswatch prepare_page:   {1000 * prepare_total / n:.1f} ms/page (a pool worker)")
    print(f"newswatch store_page:     {1000 * store_total / n:.1f} ms/page (the writer)")
    print(f"prepare/bare: {prepare_total / bare_total:.2f}")
    print(f"pipeline/bare: {(prepare_total + store_total) / bare_total:.2f}")


if __name__ == "__main__":
    main()
