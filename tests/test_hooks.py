"""Per-source hooks: a quirky source is one module plus one config key."""

from __future__ import annotations

import os
import sqlite3
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_newswatch

from pipelines.config import parse_config
from pipelines.errors import ConfigError
from pipelines.hooks import NO_HOOKS, hooks_for, load_hooks
from pipelines.models import Article
from samples.localserver import serve_sites
from samples.sitegen import article_path, write_site

HOOKS_MODULE = '''\
"""A site whose listings carry an article we do not want, and whose pages need a touch."""

from dataclasses import replace

from pipelines.hooks import SourceHooks


class Hooks(SourceHooks):
    def article_url(self, url, listing_url):
        if "story-00002-" in url:
            return None  # a sponsored page dressed as an article
        return url

    def page_html(self, html, url):
        return html.replace("</article>", "<!-- seen by page_html --></article>")

    def article(self, article, html):
        mark = " [page_html ran]" if "seen by page_html" in html else ""
        return replace(article, title=article.title + " (hooked)" + mark)
'''

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

[[sources]]
name = "gen"
lang = "en"
feeds = ["{base}/feed.xml"]
article_pattern = '/news/\\d{{4}}/\\d\\d/story-'
hooks = "{hooks}"
"""


def source_config(hooks: str) -> str:
    return f'[[sources]]\nname = "gen"\nfeeds = ["http://127.0.0.1:9/feed"]\nhooks = "{hooks}"\n'


@pytest.fixture
def hooks_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "hookpkg"
    folder.mkdir()
    (folder / "quirky_site.py").write_text(HOOKS_MODULE, encoding="utf-8")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop("quirky_site", None)
    load_hooks.cache_clear()


@pytest.mark.parametrize(
    ("hooks", "complaint"),
    [
        ("no_such_module_here:Hooks", "cannot import no_such_module_here"),
        ("quirky_site:Missing", "quirky_site has no Missing"),
        ("quirky_site", "expected 'package.module:Name'"),
        ("os.path:sep", "defines none of article_url, page_html, article"),
    ],
)
def test_hooks_that_do_not_load_are_a_config_error_naming_the_key(
    tmp_path: Path, hooks_dir: Path, hooks: str, complaint: str
) -> None:
    raw = tomllib.loads(source_config(hooks))
    with pytest.raises(ConfigError, match=r"sources\[0\] \(gen\)\.hooks") as error:
        parse_config(raw, tmp_path / "newswatch.toml")
    assert complaint in str(error.value)


def test_an_object_may_define_only_the_hooks_it_needs(hooks_dir: Path) -> None:
    (hooks_dir / "partial_hooks.py").write_text(
        "class OnlyUrls:\n"
        "    def article_url(self, url, listing_url):\n"
        "        return url.replace('http://', 'https://')\n",
        encoding="utf-8",
    )
    hooks = load_hooks("partial_hooks:OnlyUrls")
    sys.modules.pop("partial_hooks", None)
    article = Article(url="u", title="t", text="x")
    assert hooks.article_url("http://a/b", None) == "https://a/b"
    assert hooks.page_html("<p>", "u") == "<p>"
    assert hooks.article(article, "<p>") is article


def test_a_source_without_hooks_gets_hooks_that_change_nothing() -> None:
    raw = tomllib.loads('[[sources]]\nname = "s"\nfeeds = ["http://127.0.0.1:9/f"]\n')
    source = parse_config(raw, Path("newswatch.toml")).sources[0]
    assert source.hooks is None and hooks_for(source) is NO_HOOKS
    article = Article(url="u", title="t", text="x")
    assert NO_HOOKS.article_url("http://a/b", "http://a/") == "http://a/b"
    assert NO_HOOKS.page_html("<p>", "u") == "<p>"
    assert NO_HOOKS.article(article, "") is article


@pytest.mark.crawl
def test_a_source_s_hooks_shape_what_is_fetched_and_stored(tmp_path: Path, hooks_dir: Path) -> None:
    root = tmp_path / "sites"
    write_site(root / "gen", 4)
    with serve_sites(root, ["gen"]) as servers:
        config = tmp_path / "work" / "newswatch.toml"
        config.parent.mkdir()
        config.write_text(
            CONFIG.format(base=servers["gen"], hooks="quirky_site:Hooks"), encoding="utf-8"
        )
        path = os.pathsep.join([str(hooks_dir), os.environ.get("PYTHONPATH", "")])
        result = run_newswatch("run", "--no-send", config=config, env={"PYTHONPATH": path})
        assert result.code == 0, result.err
        asked = {r.target for r in servers.requests("gen")}
    assert article_path(2) not in asked, "the discovery hook skipped it"
    assert {article_path(i) for i in (0, 1, 3)} <= asked
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        titles = [r[0] for r in conn.execute("SELECT title FROM articles WHERE source = 'gen'")]
    finally:
        conn.close()
    assert len(titles) == 3
    assert all(t.endswith(" (hooked) [page_html ran]") for t in titles), titles
