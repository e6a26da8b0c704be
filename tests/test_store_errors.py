"""A store that cannot be written ends the pass cleanly: exit 4, one line naming the
database and the cause, the crawl stopped, nothing stored damaged, the next pass fine.

The faults are real SQLite ones: another connection holding ``BEGIN EXCLUSIVE`` (at the
start of a pass, and taken by the site's server in the middle of one), and a full disk
made with ``PRAGMA max_page_count`` (SQLite then raises SQLITE_FULL, as on a full disk).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_newswatch

from pipelines.defaults import STORE_BUSY_TIMEOUT_SECONDS
from pipelines.errors import ExitCode
from samples.localserver import SITES_DIR, RequestRecord, SiteServers, serve_sites
from samples.manifest import load_manifest, write_config

ARTICLE = re.compile(r",\d+\.html$")


class Locker:
    """Holds the database with BEGIN EXCLUSIVE from another connection, on demand."""

    def __init__(self) -> None:
        self.db: Path | None = None
        self.conn: sqlite3.Connection | None = None
        self.articles_when_locked: int | None = None
        self.articles_seen = 0
        self.lock_at_article: int | None = None  # lock when this article is asked for
        self._mutex = threading.Lock()

    def lock(self) -> None:
        assert self.db is not None
        conn = sqlite3.connect(self.db, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        (self.articles_when_locked,) = conn.execute("SELECT count(*) FROM articles").fetchone()
        self.conn = conn

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None

    def on_request(self, site: str, entry: RequestRecord) -> None:
        with self._mutex:
            if not ARTICLE.search(entry.target):
                return
            self.articles_seen += 1
            if self.articles_seen == self.lock_at_article and self.conn is None:
                self.lock()


@pytest.fixture
def locker() -> Iterator[Locker]:
    held = Locker()
    yield held
    held.release()


@pytest.fixture
def sites(site_root: Path, locker: Locker) -> Iterator[SiteServers]:
    with serve_sites(site_root, load_manifest(SITES_DIR), on_request=locker.on_request) as s:
        yield s


@pytest.fixture
def config(tmp_path: Path, sites: SiteServers, locker: Locker) -> Path:
    path = write_config(tmp_path / "work" / "newswatch.toml", load_manifest(SITES_DIR), sites)
    locker.db = path.parent / "newswatch.db"
    return path


def database(config: Path) -> Path:
    (db,) = config.parent.glob("*.db")
    return db


def articles(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return conn.execute("SELECT url, text FROM articles ORDER BY url").fetchall()


def one_clean_line(err: str, cause: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "database" in line or "disk" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("newswatch: database error: ") and cause in lines[0], err
    return lines[0]


@pytest.mark.crawl
def test_a_database_locked_when_the_pass_starts(config: Path, locker: Locker) -> None:
    assert run_newswatch("run", "--no-send", config=config).code == ExitCode.OK
    db = database(config)
    stored = articles(db)
    locker.db = db
    locker.lock()
    try:
        result = run_newswatch("run", "--no-send", config=config)
    finally:
        locker.release()
    assert result.code == ExitCode.STORE, result.err
    line = one_clean_line(result.err, "database is locked")
    assert f"{db}: database is locked" in line
    assert f"{STORE_BUSY_TIMEOUT_SECONDS:g} s" in line
    assert articles(db) == stored
    again = run_newswatch("run", "--no-send", config=config)
    assert again.code == ExitCode.OK, again.err


@pytest.mark.crawl
def test_a_database_locked_in_the_middle_of_a_pass(config: Path, locker: Locker) -> None:
    locker.lock_at_article = 3  # the third article asked for: some are stored by then
    try:
        result = run_newswatch("run", "--no-send", config=config)
    finally:
        locker.release()
    assert locker.articles_when_locked is not None
    assert result.code == ExitCode.STORE, result.out + result.err
    one_clean_line(result.err, "database is locked")
    db = database(config)
    # What was stored before the lock is there, whole; nothing after it was.
    assert len(articles(db)) == locker.articles_when_locked
    again = run_newswatch("run", "--no-send", config=config)
    assert again.code == ExitCode.OK, again.err
    assert len(articles(db)) > locker.articles_when_locked
    with sqlite3.connect(db) as conn:
        statuses = [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses[0] == "interrupted" and statuses[-1] != "running"


# The pass in a child process whose store connections may not grow the database file:
# SQLite raises SQLITE_FULL ("database or disk is full") as on a full disk.
FULL_DISK = """
import sys
import pipelines.store as store

opened = store.open_db

def full(path):
    db = opened(path)
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")
    return db

store.open_db = full
from crawler.cli import main
sys.argv = ["newswatch", *sys.argv[1:]]
main()
"""


@pytest.mark.crawl
def test_a_full_disk_stops_the_crawl_with_one_line(config: Path) -> None:
    assert run_newswatch("run", "--no-send", "--source", "bladi", config=config).code == 0
    db = database(config)
    stored = articles(db)
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, "--config", str(config), "run", "--no-send"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == ExitCode.STORE, result.stdout + result.stderr
    one_clean_line(result.stderr, "disk is full")
    assert len(result.stderr) < 3000  # not a page body per article
    # Nothing stored is lost. (A small article may still fit in the pages the file has,
    # as on a disk that is nearly full: which one comes first depends on the crawl.)
    assert set(stored) <= set(articles(db))
    again = run_newswatch("run", "--no-send", config=config)
    assert again.code == ExitCode.OK, again.err
    assert len(articles(db)) > len(stored)
