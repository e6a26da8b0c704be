"""The extract stage against bare trafilatura, side by side on the real pages.

``pipelines.extract.extract_article`` (decoding, our cleaning, the "is it an article?"
decision, dates, language) against bare ``trafilatura.extract(html, with_metadata=True,
favor_precision=True, include_comments=False)`` (bench/bare.py, the call every bench compares
with), on the same page bytes. The two run interleaved, page by page, in alternating order, for
several rounds; the ratio reported is the median of the per-round ratios, so that a noisy
neighbour on a shared machine moves both sides alike.

    .venv/bin/python bench/extract.py [--rounds 5]

Ends with the line ``extract/bare: R`` (goal: at most 1.15).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bare import bare_extract, load_pages

from pipelines.extract import extract_article


def bare(html: bytes, url: str) -> object:
    return bare_extract(html, url)


def ours(html: bytes, url: str) -> object:
    return extract_article(html, url)


def timed(fn: Callable[[bytes, str], object], html: bytes, url: str) -> float:
    start = time.process_time()  # CPU time: a busy neighbour does not count
    fn(html, url)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = load_pages()
    for url, html in pages[:5]:  # warm up: language model, lazy imports, caches
        ours(html, url), bare(html, url)
    ratios, bare_times, our_times = [], [], []
    for round_no in range(args.rounds):
        bare_total = our_total = 0.0
        for i, (url, html) in enumerate(pages):
            # Alternate which side goes first, so that neither always finds a warm cache.
            if (i + round_no) % 2:
                bare_total += timed(bare, html, url)
                our_total += timed(ours, html, url)
            else:
                our_total += timed(ours, html, url)
                bare_total += timed(bare, html, url)
        ratios.append(our_total / bare_total)
        bare_times.append(bare_total / len(pages))
        our_times.append(our_total / len(pages))
    print(f"pages: {len(pages)} real pages x {args.rounds} rounds, interleaved")
    print(f"bare trafilatura.extract:  {1000 * statistics.median(bare_times):.1f} ms/page")
    print(f"newswatch extract_article: {1000 * statistics.median(our_times):.1f} ms/page")
    print(f"extract/bare: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
