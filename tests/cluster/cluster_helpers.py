"""What the Scrapyd tests share: 8 realistic sites on 127.0.0.1, their config with
``[cluster]``, and ``newswatch cluster run`` in a child process.

The sites: the demo's three and the four holdout sites (saved real-world pages, with their
MANIFEST saying which pages a pass stores and which raise an alert), and one generated site.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.dataset import query_dataset

from samples.localserver import SITES_DIR, SiteServers, serve_sites
from samples.manifest import HOLDOUT_DIR, Manifest, config_text, load_manifest
from samples.sitegen import SiteShape, article_path, generated_manifest, write_site

GENERATED = 6  # articles of the generated site
CRAWL = {"workers": 0, "concurrent_per_domain": 4}  # pages prepared inline in each job


def manifest(root: Path) -> Manifest:
    sites = {**load_manifest(SITES_DIR).sites, **load_manifest(HOLDOUT_DIR).sites}
    sites.update(generated_manifest(root, "gen").sites)
    return Manifest(root, sites)


@dataclass
class Sites:
    root: Path
    servers: SiteServers
    manifest: Manifest

    @property
    def names(self) -> list[str]:
        return list(self.manifest)

    def stored(self) -> set[str]:
        """Every URL a first pass must store (new or duplicate)."""
        urls = {
            self.servers[name] + a.path
            for name, site in self.manifest.items()
            for a in site.articles
            if a.stored
        }
        return urls | {self.servers["gen"] + article_path(i) for i in range(GENERATED)}

    def not_stored(self) -> set[str]:
        return {
            self.servers[name] + a.path
            for name, site in self.manifest.items()
            for a in site.articles
            if not a.stored
        }

    def alerted(self) -> set[str]:
        """Every URL that raises an alert: relevant, and no copy of a seed or a page."""
        return {
            self.servers[name] + a.path
            for name, site in self.manifest.items()
            for a in site.articles
            if a.stored and a.relevant and not a.duplicate_of
        }


@contextmanager
def serve(root: Path) -> Iterator[Sites]:
    """The 8 sites, copied under ``root`` and served on 127.0.0.1."""
    for folder in (SITES_DIR, HOLDOUT_DIR):
        for name in load_manifest(folder):
            shutil.copytree(folder / name, root / name)
    write_site(root / "gen", GENERATED)
    found = manifest(root)
    with serve_sites(root, list(found)) as servers:
        yield Sites(root, servers, found)


def write_config(
    path: Path,
    sites: Sites,
    nodes: Sequence[str],
    *,
    cluster: dict[str, Any] | None = None,
    crawl: dict[str, Any] | None = None,
) -> Path:
    """The sites' config (alerts in mode "each") with ``[cluster] scrapyd = nodes``."""
    settings = {"poll_seconds": 0.25, "job_timeout_minutes": 2, **(cluster or {})}
    text = config_text(
        sites.manifest, dict(sites.servers.items()), crawl={**CRAWL, **(crawl or {})}
    )
    head, _, rest = text.partition("\n[[sources]]")
    lines = [f"scrapyd = {json.dumps(list(nodes))}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    text = f"{head}\n[cluster]\n" + "\n".join(lines) + "\n\n[[sources]]" + rest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cluster_env(smtp_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    if smtp_url is not None:
        env["NEWSWATCH_SMTP_URL"] = smtp_url
    env.update(extra)
    return env


def cluster_run(config: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config), "cluster", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


query = query_dataset


# One generated source "gen" (samples/sitegen): its feed, sitemaps and section pages, every
# article under /news/YYYY/MM/story-N; politeness off, pages prepared inline in the crawl.
GEN_SOURCE = SiteShape(feed_items=40, sitemap_chunk=100, section_page_size=20, section_pages=2)
_GEN_CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
maildir = "maildir"
max_age_days = 0

[crawl]
allow_private_targets = ["127.0.0.1"]
download_delay = 0
autothrottle_start_delay = 0
concurrent_per_domain = 4
workers = 0
{crawl}
[cluster]
{cluster}
[[sources]]
name = "gen"
lang = "en"
feeds = ["{base}/feed.xml"]
sitemaps = ["{base}/sitemap_index.xml"]
start_urls = ["{base}/news/"]
article_pattern = '/news/\\d{{4}}/\\d\\d/story-'
follow_depth = 1
"""


def gen_config(base: str, cluster: dict[str, Any], **crawl: Any) -> str:
    """The config of the generated source at ``base``, with these ``[cluster]`` keys and
    more ``[crawl]`` keys (values written as JSON, which TOML reads alike)."""
    lines = {
        name: "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
        for name, table in (("crawl", crawl), ("cluster", cluster))
    }
    return _GEN_CONFIG.format(base=base, **lines)
