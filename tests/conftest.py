"""Shared fixtures: sample sites served on 127.0.0.1 and a ``newswatch`` runner.

A Twisted reactor cannot restart, so every pass runs ``newswatch`` in a child process,
exactly as cron would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from samples.demo import DEMO_CONFIG, DEMO_SITES
from samples.localserver import SITES_DIR, SiteServers, serve_sites


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


def manifest_config(manifest: Mapping[str, Any], bases: Mapping[str, str]) -> str:
    """A newswatch.toml with one source per site of a test-site MANIFEST.json, on 127.0.0.1."""
    lines = [
        "[store]",
        'path = "newswatch.db"',
        "",
        "[alerts]",
        'to = ["analyst@example.org"]',
        'from = "newswatch@example.org"',
        'mode = "each"',
        "max_age_days = 0",
        'maildir = "maildir"',
        "",
        "[crawl]",
        "download_delay = 0",
        "autothrottle_start_delay = 0",
        "",
    ]
    for name, site in manifest.items():
        base = bases[name]
        assert "'" not in site["article_pattern"]
        lines += [
            "[[sources]]",
            f"name = {json.dumps(name)}",
            f"title = {json.dumps(site['name'])}",
            f"lang = {json.dumps(site['lang'])}",
            f"feeds = {json.dumps([base + p for p in site['feeds']])}",
            f"sitemaps = {json.dumps([base + p for p in site['sitemaps']])}",
            f"start_urls = {json.dumps([base + p for p in site['start_urls']])}",
            f"article_pattern = '{site['article_pattern']}'",
            "follow_depth = 3",
            "",
        ]
    return "\n".join(lines)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    """A private copy of the sample sites that a test may edit while they are served."""
    root = tmp_path / "sites"
    shutil.copytree(SITES_DIR, root)
    return root


@pytest.fixture
def servers(site_root: Path) -> Iterator[SiteServers]:
    with serve_sites(site_root, DEMO_SITES) as s:
        yield s


@pytest.fixture
def config_path(tmp_path: Path, servers: SiteServers) -> Path:
    path = tmp_path / "work" / "newswatch.toml"
    path.parent.mkdir()
    path.write_text(DEMO_CONFIG.format(**{n: servers[n] for n in DEMO_SITES}), encoding="utf-8")
    return path
