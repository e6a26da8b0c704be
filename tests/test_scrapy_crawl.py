"""`scrapy crawl news -a source=X` behaves like `newswatch run --source X --no-send`.

The add-on gives it the config's [crawl] (here a User-Agent of its own and robots.txt not
obeyed), the extension records a `runs` row and source health and takes the pass lock.
A real Scrapy process crawls a generated site on 127.0.0.1 that logs every request.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from services.dataset import query_dataset

from pipelines.errors import ExitCode
from pipelines.store import open_store
from pipelines.store.lock import pass_lock
from samples.localserver import SiteServers, serve_sites
from samples.sitegen import write_site

REPO = Path(__file__).resolve().parent.parent  # holds scrapy.cfg
AGENT = "newswatch-test-agent/1.0 (+https://example.org/bot)"

CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
max_age_days = 0

[crawl]
allow_private_targets = ["127.0.0.1"]
download_delay = 0
autothrottle_start_delay = 0
obey_robots = false
user_agent = "{agent}"

[[sources]]
name = "gen"
lang = "en"
feeds = ["{base}/feed.xml"]
start_urls = ["{base}/news/"]
article_pattern = '/news/\\d{{4}}/\\d\\d/story-'
follow_depth = 0
"""

pytestmark = pytest.mark.crawl


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServers]:
    root = tmp_path / "sites"
    write_site(root / "gen", 6)
    # Every article is off limits to a crawler that obeys robots.txt.
    (root / "gen" / "robots.txt").write_text("User-agent: *\nDisallow: /news/\n")
    with serve_sites(root, ["gen"]) as servers:
        yield servers


@pytest.fixture
def config(tmp_path: Path, site: SiteServers) -> Path:
    path = tmp_path / "work" / "newswatch.toml"
    path.parent.mkdir()
    path.write_text(CONFIG.format(agent=AGENT, base=site["gen"]), encoding="utf-8")
    return path


def scrapy_crawl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env["NEWSWATCH_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=gen", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


rows = query_dataset


def test_scrapy_crawl_gets_the_config_s_crawl_settings_and_records_a_run(
    config: Path, site: SiteServers
) -> None:
    result = scrapy_crawl(config)
    assert result.returncode == 0, result.stderr[-3000:]

    log = site.requests("gen")
    assert log and {r.user_agent for r in log} == {AGENT}
    articles = [r for r in log if r.target.startswith("/news/20") and r.status == 200]
    assert articles, "robots.txt disallows /news/, and obey_robots = false fetches anyway"

    (run,) = rows(config, "SELECT * FROM runs")
    assert (run["status"], run["exit_code"]) == ("ok", 0)
    counts = json.loads(run["sources"])["gen"]
    assert counts["fetched"] == len(articles) and run["fetched"] == len(articles)
    assert counts["new"] == run["new"] > 0
    (health,) = rows(config, "SELECT * FROM source_health")
    assert (health["source"], health["state"], health["last_run_id"]) == ("gen", "ok", run["id"])
    assert not (config.parent / "newswatch.db.lock").read_text(), "the lock is let go"


def test_scrapy_crawl_is_refused_while_a_pass_holds_the_lock(
    config: Path, site: SiteServers
) -> None:
    with pass_lock(config.parent / "newswatch.db"):
        result = scrapy_crawl(config)
    assert result.returncode == ExitCode.PASS_RUNNING
    assert f"pid {os.getpid()}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not site.requests("gen"), "refused before it fetched anything"


def test_scrapy_crawl_on_a_locked_database_ends_with_one_line(
    config: Path, site: SiteServers
) -> None:
    db = config.parent / "newswatch.db"
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        result = scrapy_crawl(config)
    finally:
        other.close()
    assert result.returncode == ExitCode.STORE
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "database is locked" in line]
    assert len(lines) == 1 and str(db) in lines[0]
    assert not site.requests("gen"), "stopped before it fetched anything"


def test_a_command_line_setting_still_beats_the_config(config: Path, site: SiteServers) -> None:
    result = scrapy_crawl(config, "-s", "USER_AGENT=from-the-command-line")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r.user_agent for r in site.requests("gen")} == {"from-the-command-line"}
