"""A crawl that cannot run (its spider or a middleware fails as Scrapy sets it up) is named
in one line and counted as a failed source; the pass goes on with the other sources and
exits 1. (Scrapy leaves such an error to its caller: left alone, the source would count as
a crawl that found nothing.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.dataset import query_dataset

from pipelines.errors import ExitCode

TOML = """
[store]
path = "newswatch.db"
[alerts]
to = ["analyst@example.org"]
[crawl]
obey_robots = false
allow_private_targets = ["127.0.0.1"]

[[sources]]
name = "steady"
feeds = ["http://127.0.0.1:9/rss"]

[[sources]]
name = "broken"
feeds = ["http://127.0.0.1:9/feed"]
"""

# The pass, with the spider of the source "broken" failing as Scrapy creates it.
PASS = """
import runpy, sys
from crawler.spiders import news

own_init = news.NewsSpider.__init__

def init(self, *args, **kwargs):
    if kwargs["source"].name == "broken":
        raise RuntimeError("no spider for this one")
    own_init(self, *args, **kwargs)

news.NewsSpider.__init__ = init
sys.argv = ["newswatch", "--config", sys.argv[1], "run", "--no-send"]
runpy.run_module("crawler", run_name="__main__")
"""


def test_a_crawl_that_cannot_run_is_named_and_counted_as_failed(tmp_path: Path) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(TOML, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    proc = subprocess.run(
        [sys.executable, "-c", PASS, str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == ExitCode.FAILED, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "broken" in line]
    assert lines[0] == (
        "newswatch: ERROR broken: the crawl could not run: RuntimeError: no spider for this one"
    )
    assert lines[1:] == ["newswatch: ERROR broken: 0 requests, 0 new, 0 relevant, 1 errors"
                         " FAILED (crawl_failed 1)"]  # fmt: skip
    assert "Traceback" not in proc.stderr
    [run] = query_dataset(config, "SELECT sources FROM runs")
    sources = json.loads(run["sources"])  # source name -> its counts
    assert sources["broken"]["errors"] == {"crawl_failed": 1}
    assert sources["steady"]["requests"] >= 1  # the other source was crawled
    assert "crawl_failed" not in sources["steady"]["errors"]
