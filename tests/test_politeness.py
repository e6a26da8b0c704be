"""`[crawl] concurrent_per_domain` holds with no delay at all, against a real local site:
the site counts the requests it answers at the same time."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_newswatch
from test_bounds import write_config

from samples.localserver import serve_sites
from samples.sitegen import write_site


@pytest.mark.crawl
@pytest.mark.parametrize("concurrency", [1, 3])
def test_no_delay_still_keeps_the_requests_per_site(tmp_path: Path, concurrency: int) -> None:
    write_site(tmp_path / "sites" / "site", 9)
    with serve_sites(tmp_path / "sites", ["site"]) as servers:
        servers.set_delay("site", 0.3)  # answers overlap if they are sent together
        # download_delay = 0 and autothrottle_start_delay = 0: no delay of any kind
        config = write_config(
            tmp_path,
            "obey_robots = false\n",
            [{"name": "site", "feeds": [servers["site"] + "/feed.xml"], "pattern": "/news/"}],
        )
        text = config.read_text("utf-8")
        config.write_text(text.replace("concurrent_per_domain = 1", f"concurrent_per_domain"
                                       f" = {concurrency}"), "utf-8")  # fmt: skip
        result = run_newswatch("run", "--no-send", config=config)
        assert result.code == 0, result.out + result.err
        articles = [r for r in servers.requests("site") if "/news/" in r.target]
        assert len(articles) == 9
        peak = servers.peak_in_flight("site")
    # Scrapy's downloader sent every queued request of a site at once when no delay
    # applied (up to CONCURRENT_REQUESTS, 16); crawler/downloader.py keeps the limit.
    assert peak <= concurrency
    if concurrency > 1:
        assert peak > 1  # and the limit is used: the requests do overlap
