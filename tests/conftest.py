"""Shared fixtures: sample sites served on 127.0.0.1 and a ``newswatch`` runner.

One way to do each thing: sites are served with ``samples.localserver.serve_sites``, a config
for served sites is written by ``samples.manifest.write_config``, and a pass runs through
``run_newswatch``. A Twisted reactor cannot restart, so every pass runs ``newswatch`` in a
child process, exactly as cron would; those tests are marked ``crawl`` (``make test-fast``
leaves them out).

Keep the imports here to the standard library and ``samples``: a module imported by this
file loads before pytest's warning filters, and a urllib3 loaded that early (through
trafilatura or ``pipelines``) makes collection fail on its SOCKS ``DependencyWarning``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from samples.localserver import SITES_DIR, SiteServers, serve_sites
from samples.manifest import load_manifest, write_config


@contextmanager
def garbage_server() -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request with a line that is not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"garbage\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_newswatch(
    *args: str, config: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> Result:
    cmd = [sys.executable, "-m", "crawler"]
    if config is not None:
        cmd += ["--config", str(config)]
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("NEWSWATCH_SMTP_URL", "NEWSWATCH_CONFIG")
    }
    full_env.update(env or {})
    proc = subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    """A private copy of the sample sites that a test may edit while they are served."""
    root = tmp_path / "sites"
    shutil.copytree(SITES_DIR, root)
    return root


@pytest.fixture
def servers(site_root: Path) -> Iterator[SiteServers]:
    with serve_sites(site_root, load_manifest(SITES_DIR)) as s:  # the demo's three sites
        yield s


@pytest.fixture
def config_path(tmp_path: Path, servers: SiteServers) -> Path:
    """The demo's config for the served copies, in its own folder (database, Maildir)."""
    return write_config(tmp_path / "work" / "newswatch.toml", load_manifest(SITES_DIR), servers)


def stored_articles(config: Path) -> int:
    """Articles the dataset beside ``config`` holds (the seed corpus aside), read while a
    pass writes it; 0 before its tables exist."""
    db = config.parent / "newswatch.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            conn.execute("SELECT count(*) FROM articles WHERE source != 'seed'").fetchone()[0]
        )
    except sqlite3.OperationalError:  # the tables are not created yet
        return 0
    finally:
        conn.close()
