"""The extraction pool: pages prepared in worker processes, each failure costing one page.

A page that kills its worker or runs past ``[crawl] extract_timeout`` is counted
(``extract_crashed`` / ``extract_timeout``) and the pass goes on; a pool that cannot start
leaves the pass to process pages inline. The failures are real: a source's hooks module
(in tmp_path, on the workers' PYTHONPATH) calls ``os._exit`` or sleeps on marked pages.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import run_newswatch, stored_articles
from imports import imported_along

from crawler import pagepool
from crawler.pagepool import PageRunner, pause_at, resume_at
from pipelines import pool as pool_module
from pipelines.config import parse_config
from pipelines.hooks import load_hooks
from pipelines.models import Page
from pipelines.pool import (
    EXTRACT_CRASHED,
    EXTRACT_TIMEOUT,
    ExtractPool,
    PageFailed,
    PoolBroken,
    PoolUnavailable,
    WorkerSetup,
    in_flight_limit,
)
from pipelines.process import Prepared, ProcessOptions, prepare_page
from samples.localserver import serve_sites
from samples.sitegen import article_html, article_path, write_site

HOOKS = '''\
"""Test hooks: a marked page crashes or hangs the process that extracts it."""

import multiprocessing
import os
import time

REFUSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "REFUSE-WORKERS")
if os.path.exists(REFUSE) and multiprocessing.parent_process() is not None:
    raise RuntimeError("this hooks module refuses to load in a pool worker")


class Hooks:
    def page_html(self, html, url):
        if "CRASH-THE-WORKER" in html:
            os._exit(3)
        if "HANG-THE-WORKER" in html:
            time.sleep(3600)
        return html
'''

CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]

[crawl]
allow_private_targets = ["127.0.0.1"]
download_delay = 0
autothrottle_start_delay = 0
{pool}

[[sources]]
name = "gen"
lang = "en"
feeds = ["{base}/feed.xml"]
article_pattern = '/news/\\d{{4}}/\\d\\d/story-'
hooks = "pool_test_hooks:Hooks"
"""

ARTICLES = 6


@pytest.fixture
def hooks_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "hookpkg"
    folder.mkdir()
    (folder / "pool_test_hooks.py").write_text(HOOKS, encoding="utf-8")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop("pool_test_hooks", None)
    load_hooks.cache_clear()


def mark(site: Path, i: int, marker: str) -> None:
    page = site / article_path(i).lstrip("/")
    page.write_text(
        article_html(i).replace("</article>", f"<!-- {marker} --></article>"), encoding="utf-8"
    )


def crawl(
    tmp_path: Path,
    hooks_dir: Path,
    pool: str,
    marked: dict[int, str],
) -> tuple[Any, dict[str, Any], int]:
    """A pass over a site of ARTICLES articles, some of them marked; returns the result,
    the source's counts and how many articles were stored."""
    root = tmp_path / "sites"
    write_site(root / "gen", ARTICLES)
    for i, marker in marked.items():
        mark(root / "gen", i, marker)
    with serve_sites(root, ["gen"]) as servers:
        config = tmp_path / "work" / "newswatch.toml"
        config.parent.mkdir()
        config.write_text(CONFIG.format(base=servers["gen"], pool=pool), encoding="utf-8")
        path = os.pathsep.join([str(hooks_dir), os.environ.get("PYTHONPATH", "")])
        result = run_newswatch("run", "--no-send", config=config, env={"PYTHONPATH": path})
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        (sources,) = conn.execute("SELECT sources FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        (stored,) = conn.execute("SELECT COUNT(*) FROM articles WHERE source = 'gen'").fetchone()
    finally:
        conn.close()
    return result, json.loads(sources)["gen"], stored


@pytest.mark.crawl
def test_a_page_that_kills_its_worker_costs_that_page_only(tmp_path: Path, hooks_dir: Path) -> None:
    result, counts, stored = crawl(
        tmp_path, hooks_dir, "workers = 2\nextract_timeout = 60", {1: "CRASH-THE-WORKER"}
    )
    assert result.code == 0, result.err
    assert stored == ARTICLES - 1
    assert counts["errors"] == {EXTRACT_CRASHED: 1}
    assert counts["new"] == ARTICLES - 1
    # One line names the page and what became of it.
    assert [line for line in result.err.splitlines() if EXTRACT_CRASHED in line] == [
        line for line in result.err.splitlines() if article_path(1) in line
    ]
    assert len([line for line in result.err.splitlines() if EXTRACT_CRASHED in line]) == 1


@pytest.mark.crawl
def test_a_page_over_the_time_cap_costs_that_page_only(tmp_path: Path, hooks_dir: Path) -> None:
    result, counts, stored = crawl(
        tmp_path,
        hooks_dir,
        "workers = 2\nextract_timeout = 2",
        {2: "HANG-THE-WORKER", 4: "CRASH-THE-WORKER"},
    )
    assert result.code == 0, result.err
    assert stored == ARTICLES - 2
    assert counts["errors"] == {EXTRACT_TIMEOUT: 1, EXTRACT_CRASHED: 1}
    named = [line for line in result.err.splitlines() if EXTRACT_TIMEOUT in line]
    assert len(named) == 1 and article_path(2) in named[0]


@pytest.mark.crawl
def test_a_pool_that_cannot_start_leaves_the_pages_to_the_pass(
    tmp_path: Path, hooks_dir: Path
) -> None:
    (hooks_dir / "REFUSE-WORKERS").touch()  # the hooks refuse to load in a worker
    result, counts, stored = crawl(tmp_path, hooks_dir, "workers = 2", {})
    assert result.code == 0, result.err
    assert stored == ARTICLES and counts["new"] == ARTICLES and counts["errors"] == {}
    lines = [line for line in result.err.splitlines() if "extraction pool could not start" in line]
    assert len(lines) == 1 and "refuses to load in a pool worker" in lines[0]


@pytest.mark.crawl
def test_one_worker_means_inline(tmp_path: Path, hooks_dir: Path) -> None:
    result, counts, stored = crawl(tmp_path, hooks_dir, "workers = 1", {})
    assert result.code == 0, result.err
    assert stored == ARTICLES and counts["new"] == ARTICLES and counts["errors"] == {}
    assert "extraction pool" not in result.err


def options() -> ProcessOptions:
    return ProcessOptions(topics=parse_config({}, Path("newswatch.toml")).topics)


def page(i: int, marker: str = "") -> Page:
    html = article_html(i).replace("{{base}}", "http://127.0.0.1:9")
    html = html.replace("</article>", f"<!-- {marker} --></article>")
    url = "http://127.0.0.1:9" + article_path(i)
    return Page(url=url, final_url=url, body=html.encode(), source="gen")


@pytest.mark.crawl
def test_a_worker_prepares_what_the_crawling_process_would(hooks_dir: Path) -> None:
    setup = WorkerSetup(tuple(options().topics), options().dedup, {"gen": "pool_test_hooks:Hooks"})
    pool = ExtractPool(setup, workers=2, timeout=60)
    pool.start()
    try:
        futures = [pool.submit(page(i)) for i in range(3)]
        crashed = pool.submit(page(3, "CRASH-THE-WORKER"))
        results = [f.result(timeout=120) for f in futures]
        with pytest.raises(PageFailed) as failed:
            crashed.result(timeout=120)
        after = pool.submit(page(4)).result(timeout=120)  # a new worker took over
    finally:
        pool.close()
    assert failed.value.kind == EXTRACT_CRASHED
    assert results == [prepare_page(page(i), options()) for i in range(3)]
    assert after == prepare_page(page(4), options())
    assert after.canonical_url == page(4).url


@pytest.mark.crawl
def test_a_worker_that_cannot_be_set_up_is_reported_at_start(hooks_dir: Path) -> None:
    (hooks_dir / "REFUSE-WORKERS").touch()
    pool = ExtractPool(WorkerSetup(hooks={"gen": "pool_test_hooks:Hooks"}), workers=2, timeout=5)
    with pytest.raises(PoolUnavailable, match="refuses to load in a pool worker"):
        pool.start()


class NextCall:
    """Scrapy's ``engine._slot.nextcall``: what makes an engine look for its next request."""

    def __init__(self) -> None:
        self.scheduled = 0

    def schedule(self) -> None:
        self.scheduled += 1


class Downloader:
    """crawler/downloader.py's ``resume``: what sends the requests a pause held."""

    def __init__(self) -> None:
        self.resumed = 0

    def resume(self) -> None:
        self.resumed += 1


class Engine:
    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0
        self._slot = SimpleNamespace(nextcall=NextCall())
        self.downloader = Downloader()

    def pause(self) -> None:
        self.paused, self.pauses = True, self.pauses + 1

    def unpause(self) -> None:
        self.paused = False


@pytest.mark.crawl
def test_pages_beyond_the_in_flight_bound_wait_and_the_crawl_pauses() -> None:
    """Past the in-flight bound pages wait; once `pause_at` of them do, the crawl that brings
    one more is paused, and it resumes while `resume_at` still wait (the workers go on with
    those while its next requests come back), not once the wait is empty."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    assert not runner.inline
    engine, done = Engine(), list[Prepared]()
    resumed_with: list[int] = []

    def keep(prepared: Prepared) -> Prepared:
        done.append(prepared)
        return prepared

    try:
        pages = [page(i) for i in range(in_flight_limit(2) + pause_at(2) + 3)]
        for n, p in enumerate(pages):
            runner.prepare(p, engine).addCallback(keep)
            # Paused by the page that made `pause_at` wait, not before.
            assert engine.paused == (n >= in_flight_limit(2) + pause_at(2) - 1)
        assert runner.in_flight == in_flight_limit(2) and len(runner.waiting) == pause_at(2) + 3
        assert engine.pauses == 1
        while len(done) < len(pages):  # results come back: run them as the reactor would
            fn, args = calls.get(timeout=120)
            was_paused = engine.paused
            fn(*args)
            assert runner.in_flight <= in_flight_limit(2)
            if was_paused and not engine.paused:
                resumed_with.append(len(runner.waiting))
    finally:
        runner.close()
    assert resumed_with == [resume_at(2)] and 0 < resume_at(2) < pause_at(2)
    assert not engine.paused and runner.peak_in_flight == in_flight_limit(2)
    assert runner.waiting_bytes == 0
    # Unpaused, the engine is woken at once rather than at its next 5 s heartbeat.
    assert engine._slot.nextcall.scheduled == 1
    assert all(d.article is not None for d in done)


def hand_back(calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]], n: int) -> None:
    """Run the first ``n`` results the workers send back, as the reactor would."""
    for _ in range(n):
        fn, args = calls.get(timeout=120)
        fn(*args)


@pytest.mark.crawl
def test_every_crawl_that_brought_a_page_pauses_and_resumes_together() -> None:
    """Once `pause_at` pages wait, the other crawls pause too (a page from any of them
    would only wait longer), and all resume together, woken, their queues sent; a crawl
    that closed is not paused again."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    quiet, busy, closed = Engine(), Engine(), Engine()
    results = []
    try:
        results.append(runner.prepare(page(0), quiet))
        results.append(runner.prepare(page(1), closed))
        runner.engines.pop(closed)  # what `release` does when its crawl closes
        pages = [page(i) for i in range(2, in_flight_limit(2) + pause_at(2))]
        for p in pages:
            assert not quiet.paused
            results.append(runner.prepare(p, busy))
        assert busy.paused and quiet.paused and not closed.paused
        assert (busy.pauses, quiet.pauses) == (1, 1)
        hand_back(calls, len(results))
    finally:
        runner.close()
    for engine in (busy, quiet):
        assert not engine.paused
        assert engine._slot.nextcall.scheduled == 1 and engine.downloader.resumed == 1
    assert closed.downloader.resumed == 0


def test_the_crawl_pauses_on_the_bytes_waiting_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big pages pause the crawl before `pause_at` of them wait: at most
    ``MAX_WAITING_BYTES`` of bodies wait for the pool."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    pages = [page(i) for i in range(in_flight_limit(2) + 4)]
    monkeypatch.setattr(pagepool, "MAX_WAITING_BYTES", 3 * max(len(p.body) for p in pages))
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    engine = Engine()
    results = []
    try:
        for p in pages:
            results.append(runner.prepare(p, engine))
        assert len(runner.waiting) == 4 < pause_at(2)
        assert engine.paused and engine.pauses == 1
        hand_back(calls, len(pages))
    finally:
        runner.close()
    assert not engine.paused and runner.waiting_bytes == 0


def test_the_forkserver_imports_no_store_and_no_crawler() -> None:
    """What the workers' server imports before forking (pipelines/forkserver.py PRELOAD):
    the extraction, not the store (sqlite-utils) nor Scrapy, which a worker never uses."""
    from pipelines.forkserver import PRELOAD

    assert imported_along(PRELOAD, ["pipelines.store", "sqlite_utils", "scrapy", "twisted"]) == []


def test_the_command_line_imports_no_store_before_a_pass_starts_its_workers() -> None:
    """``newswatch run`` launches the workers' server first thing: what the command line
    imports before that (the CLI, the config) must be light, not the store nor Scrapy."""
    modules = ["crawler.cli", "crawler.cli.run"]
    assert imported_along(modules, ["pipelines.store", "sqlite_utils", "scrapy", "twisted"]) == []


def test_the_forkserver_ends_with_the_process_that_started_it() -> None:
    """A process that launched the workers' server stops it as it exits: the server is gone
    by the time the process is, and holds its standard output no longer (a pipe reading it
    ends with the process). Left alone, it would tear down its own interpreter after."""
    probe = (
        "import os, sys\n"
        "from multiprocessing import forkserver\n"
        "from pipelines.forkserver import prestart\n"
        "prestart(2)\n"
        "server = forkserver._forkserver._forkserver_pid\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    sys.exit(0)  # a process forked from it exits: the server is not its own\n"
        "os.waitpid(child, 0)\n"
        "with open(f'/proc/{server}/stat') as stat:  # 'Z': ended, not yet reaped\n"
        "    print(server, stat.read().rsplit(')', 1)[1].split()[0] != 'Z', flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    pid, alive_after_child = out.stdout.split()
    assert alive_after_child == "True"
    assert not Path(f"/proc/{pid}").exists()


@pytest.mark.crawl
def test_workers_start_with_the_collector_on_and_the_servers_imports_frozen() -> None:
    """The forkserver imports its modules with the garbage collector off (pipelines/preload.py)
    and freezes what they built: each worker starts with the collector on, and with the
    imported objects out of its reach."""
    pool = ExtractPool(WorkerSetup(), workers=2, timeout=60)
    pool.start()
    try:
        assert pool._pool is not None
        enabled = pool._pool.schedule(gc.isenabled).result(timeout=120)
        frozen = pool._pool.schedule(gc.get_freeze_count).result(timeout=120)
    finally:
        pool.close()
    assert enabled is True
    # trafilatura, the language model, newswatch's extraction: ~90,000 (a bare interpreter's
    # own objects: ~8,000)
    assert frozen > 50_000


def test_the_forkserver_preload_leaves_the_collector_as_it_found_it() -> None:
    probe = (
        "import gc, sys\n"
        "on = sys.argv[1] == 'on'\n"
        "gc.enable() if on else gc.disable()\n"
        "import pipelines.preload\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 50_000)\n"
    )
    for state in ("on", "off"):
        out = subprocess.run(
            [sys.executable, "-c", probe, state], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == [str(state == "on"), "True"]


def test_a_pass_over_sitemaps_does_not_import_the_feed_parser() -> None:
    """feedparser (~30 ms of a pass's start) is imported with the first feed only."""
    assert imported_along(["crawler.passes"], ["feedparser"]) == []


@pytest.mark.crawl
def test_closing_the_pool_does_not_wait_for_the_pool_managers_next_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pebble's manager thread sleeps between two looks at the pool, and a pool's join waits
    for it; `ExtractPool.close` ends that sleep. With a look once a minute, close returns
    anyway (without the wake-up it would wait for the rest of the minute)."""
    from pebble.common import CONSTS

    monkeypatch.setattr(CONSTS, "sleep_unit", 60.0)  # from the manager's first sleep on
    pool = ExtractPool(WorkerSetup(), workers=2, timeout=60)
    pool.start()
    assert pool.submit(page(1)).result(timeout=120).article is not None
    closer = threading.Thread(target=pool.close, daemon=True)
    closer.start()
    closer.join(20)
    assert not closer.is_alive()
    assert not pool_module._CLOCK.wake.is_set()  # the next pool's manager sleeps as usual


def workers_of(pool: ExtractPool) -> list[int]:
    """The worker processes of ``pool``: the children of its forkserver."""
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    with open(f"/proc/{server}/task/{server}/children") as f:
        return [int(pid) for pid in f.read().split()]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not {what} after {timeout:.0f} s"
        time.sleep(0.02)


@pytest.mark.crawl
def test_a_pool_whose_workers_are_killed_leaves_the_pages_to_the_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Workers killed from outside while idle (the OOM killer, a signal to the process
    group) stop pebble's pool for good: it takes no page any more. The next page and every
    one after it are processed inline, with one warning line."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    try:
        first = runner.prepare(page(0))
        fn, args = calls.get(timeout=120)
        fn(*args)
        assert runner.pool is not None and not runner.pool.broken
        for pid in workers_of(runner.pool):
            os.kill(pid, signal.SIGKILL)
        pool = runner.pool
        wait_until(lambda: pool.broken, "seen as stopped")
        with caplog.at_level(logging.WARNING, logger="crawler.pagepool"):
            later = [runner.prepare(page(i)) for i in (1, 2, 3)]
        assert runner.inline and runner.in_flight == 0 and calls.empty()
    finally:
        runner.close()
    results: list[Prepared] = []
    for deferred in (first, *later):
        deferred.addCallback(results.append)
    assert results == [prepare_page(page(i), options()) for i in range(4)]
    stopped = [r.getMessage() for r in caplog.records if "extraction pool stopped" in r.message]
    assert len(stopped) == 1 and "processed in the crawling process" in stopped[0]


@pytest.mark.crawl
def test_pages_a_stopped_pool_holds_are_processed_inline() -> None:
    """A pool that stops working with pages in it gives them no result; the runner's next
    look at it (every WATCH_SECONDS in a pass) processes them inline, once each, and a
    result that comes back late is ignored."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    results: list[Prepared] = []
    try:
        deferreds = [runner.prepare(page(i)) for i in range(3)]
        for deferred in deferreds:
            deferred.addCallback(results.append)
        assert runner.pool is not None and len(runner.held) == 3
        assert runner.pool._pool is not None
        runner.pool._pool.stop()  # what pebble does when its own threads give up
        runner.check_pool()
        assert runner.inline and runner.held == {} and runner.in_flight == 0
        assert results == [prepare_page(page(i), options()) for i in range(3)]
        while not calls.empty():  # results the workers sent before the stop: too late
            fn, args = calls.get_nowait()
            fn(*args)
    finally:
        runner.close()
    assert len(results) == 3


@pytest.mark.crawl
def test_a_pool_that_gives_no_page_back_is_left() -> None:
    """A worker killed while it read a page from pebble's shared channel leaves the
    channel's lock held: no worker reads again, and the pages in the pool get no result
    and never reach their time cap. Held here by the test, the lock stalls the pool the
    same way; past ``stall_after`` the runner processes those pages inline."""
    calls: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
    runner = PageRunner(options(), {}, 2, 60, lambda fn, *args: calls.put((fn, args)))
    results: list[Prepared] = []
    first = runner.prepare(page(0))  # the workers are up
    fn, args = calls.get(timeout=120)
    fn(*args)
    assert runner.pool is not None and runner.pool._pool is not None
    manager = runner.pool._pool._pool_manager.worker_manager  # type: ignore[attr-defined]
    lock = manager.workers_channel.mutex.reader_mutex
    lock.acquire()
    try:
        runner.stall_after = 1.0
        for i in (1, 2, 3):
            runner.prepare(page(i)).addCallback(results.append)
        wait_until(lambda: (runner.check_pool(), runner.inline)[1], "left", 60)
        assert runner.held == {} and results == [
            prepare_page(page(i), options()) for i in (1, 2, 3)
        ]
    finally:
        lock.release()
        runner.close()
    assert first.called


def test_a_pool_that_stops_raises_pool_broken_for_the_next_page() -> None:
    pool = ExtractPool(WorkerSetup(), workers=2, timeout=60)
    pool.start()
    try:
        assert pool._pool is not None
        pool._pool.stop()
        assert pool.broken
        with pytest.raises(PoolBroken, match="not active"):
            pool.submit(page(1))
    finally:
        pool.close()


@pytest.mark.crawl
def test_a_pass_whose_process_group_gets_sigterm_ends_and_loses_nothing(
    tmp_path: Path, hooks_dir: Path
) -> None:
    """SIGTERM to the whole process group (``timeout``, a service manager, ``newswatch
    schedule`` stopping a pass) ends the workers and their forkserver too. The pass still
    stops on its own, without a traceback; what it stored is whole, and its run recorded.
    The site answers slowly, so the workers are idle when the signal comes: pebble's pool
    then stops for good, and the pages fetched after it are processed inline."""
    root = tmp_path / "sites"
    articles = 30
    write_site(root / "gen", articles)
    with serve_sites(root, ["gen"]) as servers:
        servers.set_delay("gen", 0.2)
        config = tmp_path / "work" / "newswatch.toml"
        config.parent.mkdir()
        config.write_text(
            CONFIG.format(base=servers["gen"], pool="workers = 2\nextract_timeout = 60"),
            encoding="utf-8",
        )
        db = config.parent / "newswatch.db"
        env = dict(os.environ)
        env.pop("NEWSWATCH_CONFIG", None)
        env["PYTHONPATH"] = os.pathsep.join([str(hooks_dir), env.get("PYTHONPATH", "")])
        cmd = [sys.executable, "-m", "crawler", "--config", str(config), "run", "--no-send"]
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            wait_until(lambda: stored_articles(config) >= 3, "three articles stored", 120)
            os.killpg(proc.pid, signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert "Traceback" not in err.decode(), err.decode()
    conn = sqlite3.connect(db)
    try:
        status, sources = conn.execute("SELECT status, sources FROM runs").fetchone()
        stored = conn.execute("SELECT COUNT(*) FROM articles WHERE source = 'gen'").fetchone()[0]
        remembered = conn.execute(
            "SELECT COUNT(*) FROM seen_urls WHERE status = 'article' AND source = 'gen'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert status != "running"
    assert stored >= 3 and remembered == stored == json.loads(sources)["gen"]["new"]
    if stored < articles:  # the report says the pass was stopped, as it does for a budget
        assert json.loads(sources)["gen"]["stopped"] == "shutdown"
        assert "stopped by a signal" in out.decode(), out.decode()
