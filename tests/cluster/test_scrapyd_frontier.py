"""One large source crawled by two Scrapyd jobs at once (``[cluster] jobs_per_source = 2``):
real Scrapyd nodes, a real redis-server, a generated site of 300 articles on 127.0.0.1
whose server logs every request.

The jobs share the source's frontier in Redis: each article is asked for once in the
server's log, and the pass's line for each job gives that job's own counts (recorded in the
run under its job id), so the test sees exactly which job fetched how many.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import GEN_SOURCE, cluster_env, cluster_run, gen_config, query
from services.redis import RedisServer, redis_server
from services.scrapyd import ScrapydNode, ServiceUnavailable, scrapyd_nodes, unavailable

from crawler.redisfrontier import key_prefix
from crawler.stats import SourceReport
from pipelines.config import load_config
from samples.localserver import serve_sites
from samples.sitegen import article_path, write_site

pytestmark = pytest.mark.crawl

ARTICLES = 300
SLOW = 0.5  # seconds per answer until both jobs have joined the frontier
DEADLINE = 60.0  # seconds for the jobs to join, and for the pass to end


DONE = re.compile(r"^(\S+): job (\w+) done: gen, (\d+) fetched, (\d+) new$")


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ScrapydNode]]:
    try:
        with scrapyd_nodes(tmp_path_factory.mktemp("scrapyd"), 2, max_proc=2) as started:
            yield started
    except ServiceUnavailable as exc:
        unavailable(str(exc))


def test_two_jobs_on_two_nodes_share_one_source_and_fetch_each_article_once(
    tmp_path: Path, redis: RedisServer, nodes: list[ScrapydNode]
) -> None:
    write_site(tmp_path / "sites" / "gen", ARTICLES, GEN_SOURCE)
    with serve_sites(tmp_path / "sites", ["gen"]) as servers:
        config = tmp_path / "work" / "newswatch.toml"
        config.parent.mkdir()
        urls = [n.url for n in nodes]
        cluster = {"scrapyd": urls, "redis_url": redis.url, "jobs_per_source": 2}
        cluster |= {"poll_seconds": 0.25, "job_timeout_minutes": 2}
        text = gen_config(servers["gen"], cluster)
        config.write_text(text, encoding="utf-8")
        workers = f"{key_prefix(load_config(config), 'gen')}:workers"
        # Slow answers until both jobs have joined the source's frontier: neither can take
        # the whole source before the other starts.
        servers.set_delay("gen", SLOW)
        with cluster_run(config, "--no-send", env=cluster_env()) as proc:
            deadline = time.monotonic() + DEADLINE
            while redis.client.zcard(workers) < 2:
                assert proc.poll() is None, "the pass ended before both jobs joined"
                assert time.monotonic() < deadline, "the two jobs never crawled at once"
                time.sleep(0.05)  # polling Redis, against the deadline above
            servers.set_delay("gen", 0)
            out, err = proc.communicate(timeout=DEADLINE)
        log = servers.requests("gen")
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    assert "Traceback" not in err

    # Each article asked for exactly once between the two jobs.
    asked = Counter(r.target for r in log if r.target.startswith("/news/20"))
    assert set(asked) == {article_path(i) for i in range(ARTICLES)}
    assert [path for path, n in asked.items() if n != 1] == []

    # One job on each node; each fetched articles, and together all of them.
    done = [m.groups() for line in out.splitlines() if (m := DONE.match(line))]
    assert sorted(node for node, *_ in done) == sorted(urls), out
    fetched = {job: int(n) for _, job, n, _ in done}
    assert all(n > 0 for n in fetched.values()), fetched
    assert sum(fetched.values()) == ARTICLES
    assert sum(int(new) for *_, new in done) == ARTICLES

    # Every article stored once; the run's counts for the source are the two jobs' sum.
    stored = [r["url"] for r in query(config, "SELECT url FROM articles WHERE source = 'gen'")]
    assert len(stored) == len(set(stored)) == ARTICLES
    (run,) = query(config, "SELECT * FROM runs")
    assert (run["status"], run["exit_code"], run["new"], run["fetched"]) == (
        "ok",
        0,
        ARTICLES,
        ARTICLES,
    )
    entry = json.loads(run["sources"])["gen"]
    assert set(entry) == set(SourceReport.__dataclass_fields__)  # the shape readers know
    assert (entry["new"], entry["fetched"], entry["errors"]) == (ARTICLES, ARTICLES, {})
    assert f"run {run['id']}: 1 source(s)" in out
    (health,) = query(config, "SELECT * FROM source_health")
    assert (health["source"], health["state"], health["last_run_id"]) == ("gen", "ok", run["id"])

    # Nothing waits in Redis, nothing is in flight, no worker is left.
    prefix = workers.removesuffix(":workers")
    assert redis.client.zcard(f"{prefix}:requests") == 0
    assert redis.client.hlen(f"{prefix}:inflight") == 0
    assert redis.client.zcard(workers) == 0
