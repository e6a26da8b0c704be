"""What a second pass over an unchanged site costs, next to the first pass over it.

Generates a news site of ``--articles`` articles (a feed of the latest 50, a sitemap index
of Google News sitemaps named by robots.txt, paginated section pages) in a temporary
folder, serves it on 127.0.0.1 with samples/localserver.py, and runs ``newswatch run``
twice on it (subprocesses, a real config and database in the same folder, alerts queued
but not sent). Requests and bytes are counted by the server (body bytes it sent) and by
Scrapy (the runs table: response bytes with headers).

    .venv/bin/python bench/incremental.py [--articles 2000]

Ends with ``rerun/first: requests R, bytes B`` (the goal: B <= 0.02, and no article
request in the re-run).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from samples.localserver import RequestRecord, serve_sites
from samples.manifest import write_config
from samples.sitegen import SiteShape, generated_manifest, write_site

# localhost answers in microseconds: no politeness delay, more parallel requests.
CRAWL: dict[str, int] = {"concurrent_per_domain": 8, "max_pages_per_source": 100000}


def run_pass(config: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "crawler", "--config", str(config), "run", "--no-send"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def scrapy_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT sources FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    counts: dict[str, int] = json.loads(row[0])["gen"]
    return counts


def describe(label: str, log: list[RequestRecord], counts: dict[str, int], secs: float) -> None:
    articles = sum(1 for r in log if r.target.startswith("/news/20"))
    statuses: dict[int, int] = {}
    for r in log:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    print(
        f"{label}: requests {len(log)} (articles {articles}; by status {by_status}),"
        f" body bytes {sum(r.bytes_sent for r in log)};"
        f" Scrapy: requests {counts['requests']}, response bytes {counts['bytes']},"
        f" 304s {counts['not_modified']}, new {counts['new']}; {secs:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nw-bench-") as tmp:
        root = Path(tmp)
        shape = SiteShape(section_pages=args.articles // 20 + 1)
        write_site(root / "sites" / "gen", args.articles, shape)
        with serve_sites(root / "sites", ["gen"]) as servers:
            manifest = generated_manifest(root / "sites", "gen", follow_depth=10)
            config = write_config(root / "newswatch.toml", manifest, servers, crawl=CRAWL)
            print(
                f"site: {args.articles} articles, feed of {shape.feed_items}, news sitemaps of"
                f" {shape.sitemap_chunk}, {shape.section_pages} section pages of"
                f" {shape.section_page_size}"
            )
            first_secs = run_pass(config)
            first = servers.requests("gen")
            first_counts = scrapy_counts(root / "newswatch.db")
            describe("first pass", first, first_counts, first_secs)
            servers.clear_requests()
            again_secs = run_pass(config)
            again = servers.requests("gen")
            again_counts = scrapy_counts(root / "newswatch.db")
            describe("re-run", again, again_counts, again_secs)
    body_first = sum(r.bytes_sent for r in first)
    body_again = sum(r.bytes_sent for r in again)
    print(
        "Scrapy bytes rerun/first:"
        f" {again_counts['bytes'] / max(first_counts['bytes'], 1):.4f}"
        f" (headers included); time rerun/first: {again_secs / first_secs:.3f}"
    )
    print(
        f"rerun/first: requests {len(again) / max(len(first), 1):.4f},"
        f" bytes {body_again / max(body_first, 1):.6f}"
    )


if __name__ == "__main__":
    main()
