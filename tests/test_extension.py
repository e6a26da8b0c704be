"""The run-recording extension and the frontier, without a crawl: a real SQLite file, a real
stats collector, the signal handlers called as Scrapy calls them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.extension import PASS_COUNTS_SETTING, RunRecorder
from crawler.frontier import MAX_REFETCH, Admission, Frontier, StoreSnapshot, parse_when
from crawler.recorder import SourceCounts
from crawler.spiders.news import NewsSpider
from crawler.stats import Stat, error_key
from pipelines.config import Config, load_config
from pipelines.store import open_store
from pipelines.store.lock import PassRunning, pass_lock

CONFIG = """\
[store]
path = "newswatch.db"

[health]
failing_passes = 1

[[sources]]
name = "gen"
feeds = ["http://127.0.0.1:9/feed.xml"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "newswatch.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


def stats_of(values: dict[str, Any]) -> MemoryStatsCollector:
    stats = MemoryStatsCollector(get_crawler())
    stats.set_stats(dict(values))
    return stats


SPIDER = SimpleNamespace(name="news", source=SimpleNamespace(name="gen"))
DOWN = {Stat.REQUESTS: 2, Stat.DISCOVERY_FAILED: 1, error_key("refused"): 2}
UP = {Stat.REQUESTS: 5, Stat.DISCOVERY_OK: 1, Stat.FETCHED: 3, Stat.NEW: 3}


def test_on_its_own_it_holds_the_lock_and_records_a_run_with_health(config: Config) -> None:
    recorder = RunRecorder(stats_of(DOWN), config=config)
    recorder.begin_or_exit()
    with pytest.raises(PassRunning), pass_lock(config.store_path):  # a pass now is refused
        pass
    assert recorder.run_id is not None
    with open_store(config.store_path) as store:
        assert (store.run_row(recorder.run_id) or {})["status"] == "running"
    recorder.spider_closed(SPIDER, "finished")  # type: ignore[arg-type]

    with open_store(config.store_path) as store:
        run = store.run_row(recorder.run_id) or {}
        health = store.source_health("gen")
    assert (run["status"], run["exit_code"], run["errors"]) == ("failed", 1, 2)
    assert json.loads(run["sources"])["gen"]["errors"] == {"refused": 2}
    assert (health.state, health.bad_passes, health.last_run_id) == ("failing", 1, run["id"])
    with pass_lock(config.store_path):  # let go when the spider closed
        pass


def test_a_run_left_running_by_a_killed_crawl_is_closed_as_interrupted(config: Config) -> None:
    first = RunRecorder(stats_of(UP), config=config)
    first.open_run()  # ... and the process dies
    second = RunRecorder(stats_of(UP), config=config)
    second.open_run()
    second.spider_closed(SPIDER, "finished")  # type: ignore[arg-type]
    with open_store(config.store_path) as store:
        assert first.run_id is not None and second.run_id is not None
        assert (store.run_row(first.run_id) or {})["status"] == "interrupted"
        assert (store.run_row(second.run_id) or {})["status"] == "ok"


def test_in_a_pass_it_only_hands_the_counts_over(config: Config) -> None:
    seen: list[str] = []
    counts = SourceCounts(on_source=lambda r: seen.append(f"{r.name} {r.new}"))
    recorder = RunRecorder(stats_of(UP), counts=counts)
    recorder.spider_closed(SPIDER, "finished")  # type: ignore[arg-type]
    assert seen == ["gen 3"]
    assert [r.fetched for r in counts.of(["gen", "other"])] == [3, 0]
    assert not config.store_path.exists(), "the pass owns the run: nothing written here"


def test_crawlers_of_one_pass_share_its_counts(config: Config) -> None:
    counts = SourceCounts()
    crawler = get_crawler(NewsSpider, {PASS_COUNTS_SETTING: counts})  # settings are copied
    assert crawler.settings[PASS_COUNTS_SETTING] is counts


def test_it_is_not_configured_for_another_spider_or_a_dry_run(config: Config) -> None:
    crawler = get_crawler(Spider)
    with pytest.raises(NotConfigured):
        RunRecorder.from_crawler(crawler)
    crawler = get_crawler(NewsSpider, {"NEWSWATCH_LOADED_CONFIG": config})
    crawler.spider = NewsSpider.from_crawler(crawler, source="gen", check="1")
    with pytest.raises(NotConfigured):
        RunRecorder.from_crawler(crawler)


def test_the_frontier_decides_identity_before_fetching() -> None:
    stamp = "2026-11-01T10:00:00+00:00"
    claimed: set[str] = {"other-source-queued"}
    frontier = Frontier(max_pages=2, claimed=claimed)
    frontier.begin(StoreSnapshot(frozenset({"stored"}), {"stored": parse_when(stamp)}))
    assert frontier.admit("stored") is Admission.STORED
    assert frontier.admit("other-source-queued") is Admission.SEEN
    assert [frontier.admit(k) for k in ("a", "a", "b", "c")] == [
        Admission.NEW,
        Admission.SEEN,
        Admission.NEW,
        Admission.OVER_LIMIT,
    ]
    assert claimed >= {"a", "b"} and frontier.over_limit == 1
    assert not frontier.refetch("stored", "2026-10-01")  # not changed since fetched
    assert frontier.refetch("stored", "2026-11-02T00:00:00Z")
    assert not frontier.refetch("stored", "2026-11-02T00:00:00Z"), "claimed once fetched again"


def test_the_refetch_budget_is_bounded_and_a_dry_run_refetches_nothing() -> None:
    old = parse_when("2026-01-01")
    keys = [f"k{i}" for i in range(MAX_REFETCH + 5)]
    frontier = Frontier(max_pages=10)
    frontier.begin(StoreSnapshot(frozenset(keys), dict.fromkeys(keys, old)))
    assert sum(frontier.refetch(k, "2026-06-01") for k in keys) == MAX_REFETCH
    dry = Frontier(max_pages=1, refetch=False)
    dry.begin(StoreSnapshot(frozenset(keys), dict.fromkeys(keys, old)))
    assert not dry.refetch("k0", "2026-06-01")


def test_jobs_of_one_source_add_up_in_the_run_of_their_pass(config: Config) -> None:
    from crawler.cli.sources import source_status
    from crawler.recorder import open_run

    with open_store(config.store_path) as store:
        run_id = open_run(store)
    slow = {**UP, Stat.REQUESTS: 4, error_key("timeout"): 1, "finish_reason": "source_timeout"}
    for job, values in (("job-a", UP), ("job-b", slow), ("job-a", UP)):  # a is recorded once
        recorder = RunRecorder(stats_of(values), config=config)
        recorder.join_or_exit(run_id)
        recorder.job = job
        recorder.spider_closed(SPIDER, "finished")  # type: ignore[arg-type]
    with open_store(config.store_path) as store:
        entry = json.loads((store.run_row(run_id) or {})["sources"])["gen"]
        status = source_status(store, config, 1)
        activity = list(store.db.query("SELECT requests, errors FROM source_activity"))
    assert [(r["requests"], r["errors"]) for r in activity] == [(9, 1)]
    assert (entry["requests"], entry["fetched"], entry["new"]) == (9, 6, 6)
    assert (entry["errors"], entry["stopped"], entry["name"]) == (
        {"timeout": 1},
        "source_timeout",
        "gen",
    )
    assert entry["jobs"] == {
        "job-a": {"fetched": 3, "new": 3},
        "job-b": {"fetched": 3, "new": 3},
    }
    assert (status[0]["requests"], status[0]["new"], status[0]["errors"]) == (9, 6, {"timeout": 1})
