"""The MANIFEST.json of a set of sample sites, read into typed records, and the config for it.

Every set of sample sites (the demo's in ``samples/sites``, the holdout and syndication sets
the tests crawl) is a folder with one sub-folder per site and a ``MANIFEST.json`` saying what
each site offers and what newswatch must make of each page. The schema is described in
``samples/README.md``; ``load_manifest`` checks it and ``config_text`` turns a manifest and
the base URLs of the served sites into a ``newswatch.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samples.localserver import SAMPLES_DIR
from samples.localserver import SITES_DIR as DEMO_DIR  # the demo's sites, shipped with newswatch

HOLDOUT_DIR = SAMPLES_DIR / "holdout"  # sites no rule was tuned on
SYNDICATION_DIR = SAMPLES_DIR / "syndication"  # seed copies, syndicated copies and traps

TomlValue = str | int | float | bool | list[str]

EXPECTS = ("new", "duplicate", "not-article", "missing")
LISTINGS = ("feed", "section", "sitemap")


class ManifestError(ValueError):
    """A MANIFEST.json that does not follow the schema; the message names file and key."""


@dataclass(frozen=True)
class SampleSource:
    """The ``[[sources]]`` entry newswatch is configured with for a site; URLs as paths."""

    title: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    article_pattern: str | None = None
    follow_depth: int = 3


@dataclass(frozen=True)
class SampleArticle:
    """One page a crawler may meet, and what newswatch must make of it."""

    path: str  # path + query of the page's canonical URL
    title: str
    lang: str
    kind: str  # what the page is: relevant, a near miss (tourism, ...), a trap, not-article ...
    expect: str  # the outcome of a first pass: new, duplicate, not-article or missing (404)
    relevant: bool
    published: str | None = None
    copy_of_seed: str | None = None  # the seed file (pipelines/seed_corpus/) it copies
    copy_of: str | None = None  # "site:path" of the page of the same set it copies
    pair: str | None = None  # names the two pages of one syndicated story
    listed_in: tuple[str, ...] = ()  # feed, section, sitemap
    section_page: int | None = None  # the first section page (1-based) linking it
    words: int | None = None
    edited_in_pass_2: str | None = None  # a sentence the page gains before a second pass

    @property
    def duplicate_of(self) -> str | None:
        """What a first pass must record it as a copy of: a seed file name or ``site:path``."""
        return self.copy_of_seed or self.copy_of

    @property
    def stored(self) -> bool:
        """Whether a pass stores it as an article (new or duplicate)."""
        return self.expect in ("new", "duplicate")


@dataclass(frozen=True)
class Site:
    """One sample site: what it offers (feeds, sitemaps, section pages) and its pages."""

    name: str  # the folder name, also the source name in the config
    title: str
    lang: str
    source: SampleSource
    like: str | None = None
    cms: str | None = None
    home: str = "/"
    robots: str | None = "/robots.txt"
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    section_pages: tuple[str, ...] = ()
    tracking_params: tuple[str, ...] = ()
    articles: tuple[SampleArticle, ...] = field(default=())

    def article(self, path: str) -> SampleArticle:
        for article in self.articles:
            if article.path == path:
                return article
        raise KeyError(f"{self.name}: no article {path!r}")


class Manifest(Mapping[str, Site]):
    """The sites of one sample set, by name, in MANIFEST order; ``root`` holds their folders."""

    def __init__(self, root: Path, sites: dict[str, Site]) -> None:
        self.root = root
        self.sites = sites

    def __getitem__(self, name: str) -> Site:
        return self.sites[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.sites)

    def __len__(self) -> int:
        return len(self.sites)

    def articles(self) -> list[tuple[Site, SampleArticle]]:
        return [(site, a) for site in self.sites.values() for a in site.articles]


def load_manifest(root: Path = DEMO_DIR) -> Manifest:
    """Read and check ``root/MANIFEST.json``."""
    path = Path(root) / "MANIFEST.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected an object, one key per site")
    sites = {name: _site(path, name, spec) for name, spec in data.items()}
    return Manifest(Path(root), sites)


def _site(path: Path, name: str, spec: Any) -> Site:
    where = f"{path}: {name}"
    if not isinstance(spec, dict):
        raise ManifestError(f"{where}: expected an object")
    fields = dict(spec)
    try:
        source = SampleSource(**_tuples(fields.pop("source")))
        articles = tuple(_article(f"{where}.articles", a) for a in fields.pop("articles"))
        site = Site(name=name, source=source, articles=articles, **_tuples(fields))
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"{where}: {exc}") from None
    for article in site.articles:
        if article.expect not in EXPECTS:
            raise ManifestError(f"{where}: {article.path}: expect {article.expect!r}")
        if not set(article.listed_in) <= set(LISTINGS):
            raise ManifestError(f"{where}: {article.path}: listed_in {article.listed_in}")
        if (article.expect == "duplicate") != (article.duplicate_of is not None):
            raise ManifestError(f"{where}: {article.path}: duplicate without copy_of(_seed)")
    return site


def _article(where: str, spec: Any) -> SampleArticle:
    if not isinstance(spec, dict):
        raise ManifestError(f"{where}: expected an object")
    return SampleArticle(**_tuples(spec))


def _tuples(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}


# --- the config for served sites --------------------------------------------------------------

CONFIG_HEAD = """\
# The sample sites, served on 127.0.0.1.
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
mode = "each"
max_age_days = 0
maildir = "maildir"

[crawl]
download_delay = 0
autothrottle_start_delay = 0
"""


def config_text(
    manifest: Manifest,
    bases: Mapping[str, str],
    names: Iterable[str] | None = None,
    *,
    crawl: Mapping[str, TomlValue] | None = None,
) -> str:
    """A newswatch.toml with one source per served site (``bases``: name -> base URL).

    The sites are crawled without politeness delays (they are on 127.0.0.1); ``crawl`` adds
    other ``[crawl]`` keys (``{"concurrent_per_domain": 8}``). Alerts go to a Maildir.
    """
    # The sites are served on 127.0.0.1: exactly that address may be reached, so that a
    # redirect to 127.0.0.2 or [::1] is still refused (crawler/guard.py).
    crawl = {"allow_private_targets": ["127.0.0.1"], **(crawl or {})}
    parts = [CONFIG_HEAD]
    parts += [f"{key} = {_toml(value)}\n" for key, value in crawl.items()]
    for name in names if names is not None else bases:
        site, base = manifest[name], bases[name]
        src = site.source
        lines = [
            "[[sources]]",
            f"name = {_toml(name)}",
            f"title = {_toml(src.title)}",
            f"lang = {_toml(site.lang)}",
            f"feeds = {_toml([base + p for p in src.feeds])}",
            f"sitemaps = {_toml([base + p for p in src.sitemaps])}",
            f"start_urls = {_toml([base + p for p in src.start_urls])}",
        ]
        if src.article_pattern is not None:
            lines.append(f"article_pattern = {_toml(src.article_pattern)}")
        lines.append(f"follow_depth = {src.follow_depth}")
        parts.append("\n" + "\n".join(lines) + "\n")
    return "".join(parts)


def write_config(
    path: Path,
    manifest: Manifest,
    bases: Mapping[str, str],
    names: Iterable[str] | None = None,
    *,
    crawl: Mapping[str, TomlValue] | None = None,
) -> Path:
    """Write ``config_text`` to ``path`` (its folder is created); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(manifest, bases, names, crawl=crawl), encoding="utf-8")
    return path


def _toml(value: TomlValue) -> str:
    """A TOML value: JSON's strings, numbers and arrays are TOML's; booleans are lower case."""
    return json.dumps(value, ensure_ascii=False)
