"""A frontier shared in Redis (``[cluster] redis_url``): real crawler processes, a real
redis-server (tests/services/redis.py), a generated site on 127.0.0.1 whose server logs
every request.

Two ``newswatch run --source gen`` processes start together on one source of 320
articles. Each runs in a folder of its own, as it would on a machine of its own (each has
its own pass lock file beside its ``newswatch.db``); both databases are one file (a
symbolic link), as several machines share one dataset. Each process has its own
User-Agent, so the server's log tells who fetched what.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cluster_helpers import GEN_SOURCE, gen_config
from services.redis import RedisServer, free_port, redis_server

from crawler.redisfrontier import key_prefix
from pipelines.config import load_config
from pipelines.errors import ExitCode
from samples.localserver import RequestRecord, SiteServers, serve_sites
from samples.sitegen import article_path, write_site

pytestmark = pytest.mark.crawl

ARTICLES = 320
ADDED = 12  # articles published between the two passes
DISCOVERY = ("/robots.txt", "/feed.xml", "/sitemap_index.xml", "/news/")


@dataclass
class Cluster:
    servers: SiteServers
    site: Path
    redis: RedisServer
    configs: dict[str, Path]  # user agent -> config
    first: list[subprocess.CompletedProcess[str]]
    first_log: list[RequestRecord]


def write_config(folder: Path, agent: str, base: str, redis_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newswatch.toml"
    text = gen_config(base, {"redis_url": redis_url}, user_agent=agent)
    path.write_text(text, encoding="utf-8")
    return path


def newswatch(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config), *args],
        env=clean | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_pass(*configs: Path) -> list[subprocess.CompletedProcess[str]]:
    """``newswatch run --source gen --no-send`` for each config, all started together."""
    started = [newswatch(c, "run", "--source", "gen", "--no-send") for c in configs]
    return [finish(p) for p in started]


def articles_asked(log: list[RequestRecord], agent: str | None = None) -> list[str]:
    return [
        r.target
        for r in log
        if r.target.startswith("/news/20") and (agent is None or r.user_agent == agent)
    ]


def stored_urls(config: Path) -> list[str]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        # (the seed corpus' rows, imported by the first pass, are not the site's)
        return [row[0] for row in conn.execute("SELECT url FROM articles WHERE url LIKE 'http%'")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis: RedisServer) -> Iterator[Cluster]:
    """The first pass: two processes on one frontier."""
    root = tmp_path_factory.mktemp("cluster")
    site = root / "sites" / "gen"
    write_site(site, ARTICLES, GEN_SOURCE)
    with serve_sites(root / "sites", ["gen"]) as servers:
        base = servers["gen"]
        configs = {
            agent: write_config(root / "work" / agent, agent, base, redis.url)
            for agent in ("crawler-a", "crawler-b")
        }
        # One dataset: b's database is a's, made ready (schema, seed corpus) before the
        # crawlers start, as `newswatch init` prepares a shared dataset.
        init = finish(newswatch(configs["crawler-a"], "init"))
        assert init.returncode == 0, init.stdout + init.stderr
        (configs["crawler-b"].parent / "newswatch.db").symlink_to(
            configs["crawler-a"].parent / "newswatch.db"
        )
        first = run_pass(*configs.values())
        yield Cluster(servers, site, redis, configs, first, servers.requests("gen"))


def test_two_processes_share_one_frontier_and_fetch_each_article_once(cluster: Cluster) -> None:
    for result in cluster.first:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
    expected = {article_path(i) for i in range(ARTICLES)}
    asked = Counter(articles_asked(cluster.first_log))
    assert set(asked) == expected
    assert [path for path, n in asked.items() if n != 1] == []  # each exactly once
    by_agent = {agent: len(articles_asked(cluster.first_log, agent)) for agent in cluster.configs}
    assert sum(by_agent.values()) == ARTICLES
    assert all(n > 0 for n in by_agent.values()), by_agent  # the work was shared
    # Each process read the discovery documents itself.
    for agent in cluster.configs:
        read = {r.target for r in cluster.first_log if r.user_agent == agent}
        assert set(DISCOVERY) <= read, (agent, sorted(read - expected))
    urls = stored_urls(cluster.configs["crawler-a"])
    assert len(urls) == ARTICLES
    assert {u.removeprefix(cluster.servers["gen"]) for u in urls} == expected
    # Nothing waits, nothing is in flight, no worker is left; the keys of the dataset.
    config = load_config(cluster.configs["crawler-a"])
    prefix = key_prefix(config, "gen")
    client = cluster.redis.client
    assert client.zcard(f"{prefix}:requests") == 0
    assert client.hlen(f"{prefix}:inflight") == 0
    assert client.zcard(f"{prefix}:workers") == 0
    assert client.scard(f"{prefix}:queued") == 0
    assert client.scard(f"{prefix}:seen") >= ARTICLES


def test_a_second_pass_fetches_only_new_articles_and_reads_discovery_again(
    cluster: Cluster,
) -> None:
    write_site(cluster.site, ARTICLES + ADDED, GEN_SOURCE)
    cluster.servers.clear_requests()
    second = run_pass(*cluster.configs.values())
    for result in second:
        assert result.returncode == 0, result.stdout + result.stderr
    log = cluster.servers.requests("gen")
    asked = Counter(articles_asked(log))
    assert asked == Counter(article_path(i) for i in range(ARTICLES, ARTICLES + ADDED))
    for agent in cluster.configs:
        read = [r.target for r in log if r.user_agent == agent]
        assert set(DISCOVERY) <= set(read), (agent, read)
    assert len(stored_urls(cluster.configs["crawler-a"])) == ARTICLES + ADDED


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[RedisServer]:
    with redis_server(password=PASSWORD) as server:
        yield server


PASSWORD = "the-right-password"


@pytest.mark.parametrize(
    ("url", "password", "cause"),
    [
        ("redis://127.0.0.1:{closed}/0", None, "Connection refused"),
        ("{locked}", "not-the-password", "refused the password"),
        ("{locked}", None, "wants a password"),
        ("redis://127.0.0.1:notaport/0", None, "Port could not be cast"),
    ],
    ids=["down", "wrong-password", "no-password", "bad-url"],
)
def test_a_frontier_that_cannot_be_used_fails_the_source_in_one_line(
    tmp_path: Path, request: pytest.FixtureRequest, url: str, password: str | None, cause: str
) -> None:
    if "{locked}" in url:
        url = url.format(locked=request.getfixturevalue("locked_redis").url)
    url = url.format(closed=free_port())
    root = tmp_path / "sites"
    write_site(root / "gen", 5, GEN_SOURCE)
    with serve_sites(root, ["gen"]) as servers:
        config = write_config(tmp_path / "work", "crawler-c", servers["gen"], url)
        env = {"NEWSWATCH_REDIS_PASSWORD": password} if password else {}
        result = finish(newswatch(config, "run", "--source", "gen", "--no-send", env=env))
        log = servers.requests("gen")
    output = result.stdout + result.stderr
    assert result.returncode == ExitCode.FAILED, output
    assert "Traceback" not in output
    # Nothing else is said in error than that line and the summary's line about the source.
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert all("ERROR gen: " in line for line in errors), result.stderr
    lines = [line for line in output.splitlines() if "shared frontier" in line]
    assert len(lines) == 1, output
    assert url in lines[0] and cause in lines[0], lines[0]
    assert PASSWORD not in output and "not-the-password" not in output
    assert articles_asked(log) == []
