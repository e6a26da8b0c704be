"""`newswatch cluster run` on real Scrapyd nodes: 8 local sites crawled by Scrapyd jobs,
every article stored once and every alert sent once (a real SMTP server), also when a
node dies (SIGKILL to it and its jobs) in the middle of the pass."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cluster_helpers import Sites, cluster_env, cluster_run, query, serve, write_config
from services.scrapyd import ScrapydNode, ServiceUnavailable, scrapyd_nodes, unavailable

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytestmark = pytest.mark.crawl
pytest_plugins = ["smtpserver", "services.postgres"]

PASSWORD_ENV = "NEWSWATCH_STORE_PASSWORD"  # the jobs' and the pass's, never the config's
PASS_SECONDS = 120  # the most a pass may take here before the test fails
SHARDS = {"sources_per_job": 2}


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[Sites]:
    with serve(tmp_path / "sites") as served:
        yield served


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ScrapydNode]]:
    """Two nodes for the module (the project is deployed once); the last test kills one.

    Their jobs inherit the nodes' environment, as on a real node: it holds the password of
    the session's PostgreSQL server when one runs, for the passes whose dataset is there."""
    from services.postgres import session_server

    env = {}
    with contextlib.suppress(pytest.skip.Exception):  # no PostgreSQL: SQLite passes still run
        env[PASSWORD_ENV] = session_server().password
    try:
        root = tmp_path_factory.mktemp("scrapyd")
        with scrapyd_nodes(root, 2, max_proc=2, env=env) as started:
            yield started
    except ServiceUnavailable as exc:
        unavailable(str(exc))


def check_stored_once(config: Path, sites: Sites) -> None:
    rows = query(config, "SELECT url FROM articles WHERE source != 'seed'")
    counts = Counter(r["url"] for r in rows)
    assert [u for u, n in counts.items() if n > 1] == [], "an article stored twice"
    assert sites.stored() - set(counts) == set(), "an article was lost"
    assert sites.not_stored() & set(counts) == set()
    keys = Counter(r["url_key"] for r in query(config, "SELECT url_key FROM seen_urls"))
    assert [k for k, n in keys.items() if n > 1] == []


def check_alerts_sent_once(config: Path, sites: Sites, smtp: SmtpServer) -> None:
    rows = query(
        config,
        "SELECT articles.url, alerts.status FROM alerts JOIN articles ON articles.id = article_id",
    )
    assert sorted(r["url"] for r in rows) == sorted(sites.alerted())
    assert {r["status"] for r in rows} == {"sent"}
    messages = [m.message() for m in smtp.received]
    ids = [m["Message-ID"] for m in messages]
    assert len(ids) == len(set(ids)), "a message sent twice"
    bodies = [m.get_body(("plain",)).get_content() for m in messages]  # type: ignore[union-attr]
    for url in sites.alerted():
        assert sum(url in body for body in bodies) == 1, url


def scheduled_on(out: str) -> Counter[str]:
    return Counter(line.split(": job ")[0] for line in out.splitlines() if " scheduled: " in line)


def test_two_nodes_crawl_eight_sources_once(
    tmp_path: Path,
    sites: Sites,
    nodes: list[ScrapydNode],
    smtp_server: SmtpServer,
    use_store_backend: Callable[[Path], Path],
) -> None:
    urls = [n.url for n in nodes]
    # Shards of two sources: each job crawls two of them in one Scrapy process.
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, urls, cluster=SHARDS)
    use_store_backend(config)  # the dataset in SQLite, then in PostgreSQL
    password = {PASSWORD_ENV: os.environ[PASSWORD_ENV]} if PASSWORD_ENV in os.environ else {}
    proc = cluster_run(config, env=cluster_env(smtp_server.url, **password))
    out, err = proc.communicate(timeout=PASS_SECONDS)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert set(scheduled_on(out)) == {n.url for n in nodes}, "both nodes crawl"
    (run,) = query(config, "SELECT * FROM runs")
    assert (run["status"], run["exit_code"]) == ("ok", 0)
    assert f"run {run['id']}: 8 source(s)" in out
    check_stored_once(config, sites)
    check_alerts_sent_once(config, sites, smtp_server)
    health = {r["source"]: r["last_run_id"] for r in query(config, "SELECT * FROM source_health")}
    assert health == dict.fromkeys(sites.names, run["id"])
    for node in nodes:  # every job the nodes ran recorded its source: none failed
        assert node.daemonstatus()["running"] == 0


def test_a_node_killed_mid_pass_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, sites: Sites, nodes: list[ScrapydNode], smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, [n.url for n in nodes])
    for name in sites.names:  # slow sites: each job is still crawling when the node dies
        sites.servers.set_delay(name, 0.2)
    victim = nodes[1]
    with cluster_run(config, env=cluster_env(smtp_server.url)) as proc:
        out, err = watch_and_kill(proc, sites, victim)
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    assert "Traceback" not in err
    down = [line for line in err.splitlines() if victim.url in line and "unreachable" in line]
    assert len(down) == 1, err
    assert "scheduled again" in err
    after = out.split(victim.url + ": job", 1)[1] if victim.url in out else ""
    assert nodes[0].url in after, "its sources went to the other node"
    (run,) = query(config, "SELECT * FROM runs")
    assert (run["status"], run["exit_code"]) == ("ok", 0)
    check_stored_once(config, sites)
    check_alerts_sent_once(config, sites, smtp_server)


def watch_and_kill(
    proc: subprocess.Popen[str], sites: Sites, victim: ScrapydNode
) -> tuple[str, str]:
    """Kill ``victim`` (and its jobs) once a source of one of its jobs served an article
    page; the pass's stdout and stderr."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    # Kill the node as soon as a source of one of its jobs has served an article page.
    deadline = time.monotonic() + 60
    while True:
        mine = [
            line.rsplit(": ", 1)[1].strip()
            for line in list(lines)
            if line.startswith(f"{victim.url}: job ") and " scheduled: " in line
        ]
        if any(
            r.target.startswith(("/news/", "/20")) or r.target.endswith(".html")
            for name in mine
            for r in sites.servers.requests(name)
        ):
            break
        assert proc.poll() is None and time.monotonic() < deadline, "the node never crawled"
        time.sleep(0.02)  # polling the request logs, against the deadline above
    victim.kill()
    for name in sites.names:
        sites.servers.set_delay(name, 0)
    proc.wait(timeout=PASS_SECONDS)
    reader.join(timeout=10)
    err = proc.stderr.read() if proc.stderr else ""
    out = "".join(lines)
    return out, err
