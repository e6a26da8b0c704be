"""Syndicated copies and traps, crawled end to end by ``newswatch run``.

``samples/syndication`` holds three small static sites in layouts the other suites do
not use: a Drupal site in French (chapô, "Lire aussi" boxes inside the body, a pager), a Dutch
daily (photo captions, inline "Lees ook" links, a live blog, an RSS feed) and an English
aggregator whose feed lists AMP URLs and whose section page adds tracking parameters. Every
page carries the boilerplate real pages do (cookie banner, menus, share buttons, related
teasers, comments, footer). MANIFEST.json says what each page must become:

- ``duplicate`` of a seed: a copy with a chapô and boxes, with its paragraphs re-ordered,
  print-edition copies (line-end hyphens kept in the words, or followed by a space, or the
  column kept line by line with ``<br>``), a copy cut after four paragraphs with a "read
  more on the source site" line, a wire copy with an "(AFP) -" dateline and another title,
  a copy with photo captions and "Lees ook" links;
- ``duplicate`` of another page of the same pass: an aggregator's copy of an article of the
  French site. Which of the two is fetched first is the crawler's business, so the pair is
  right when one of them is new (one alert) and the other is a duplicate of it;
- ``new``: the traps (an op-ed quoting one seed paragraph among 400 new words, a live blog
  with one entry summarising a seed, a weekly roundup of linked headlines quoting the first
  sentence of every seed, a story sharing a seed's two-sentence Abraham Accords background,
  a seed translated into French) and ordinary articles;
- ``not-article``: a photo gallery at an article-shaped URL, contact and about pages;
- the same article edited before a second pass and reached again (the feed now names it
  without its trailing slash; the server redirects): the row is updated, no second alert.

Run ``pytest -s tests/test_syndication_e2e.py`` to read the per-page report.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Result, run_newswatch

from pipelines.urls import url_key
from samples.localserver import serve_sites
from samples.manifest import SYNDICATION_DIR, SampleArticle, load_manifest, write_config

pytestmark = pytest.mark.crawl  # two newswatch passes over the syndication sites

DATA_DIR = SYNDICATION_DIR
SEED_DIR = Path(__file__).resolve().parents[1] / "pipelines" / "seed_corpus"
MANIFEST = load_manifest(DATA_DIR)
SITES = tuple(MANIFEST)
PASS_2_DIR = "_pass2"  # files laid over the sites between the two passes
DUPLICATE_THRESHOLD = 0.6
RUN_TIMEOUT = 600.0


@dataclass
class Pass:
    result: Result
    rows: list[sqlite3.Row]
    alerts: list[sqlite3.Row]


@dataclass
class Crawl:
    bases: dict[str, str]
    first: Pass
    second: Pass

    def url(self, site: str, path: str) -> str:
        return self.bases[site] + path

    def rows_for(self, site: str, path: str, in_pass: Pass | None = None) -> list[sqlite3.Row]:
        key = url_key(self.url(site, path))
        return [r for r in (in_pass or self.second).rows if r["url_key"] == key]

    def alerts_for(self, row: sqlite3.Row, in_pass: Pass | None = None) -> int:
        return sum(a["article_id"] == row["id"] for a in (in_pass or self.second).alerts)

    def seed_ids(self) -> dict[int, str]:
        return {
            r["id"]: r["url"].removeprefix("seed:")
            for r in self.second.rows
            if r["url"].startswith("seed:")
        }

    def name_of(self, article_id: int | None) -> str | None:
        """A seed file name, ``site:path`` for a page of the manifest, or the bare id."""
        if article_id is None:
            return None
        if article_id in self.seed_ids():
            return self.seed_ids()[article_id]
        for site in SITES:
            for entry in MANIFEST[site].articles:
                if any(r["id"] == article_id for r in self.rows_for(site, entry.path)):
                    return f"{site}:{entry.path}"
        return str(article_id)


def _query(db: Path, sql: str) -> list[sqlite3.Row]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _run_pass(config: Path) -> Pass:
    result = run_newswatch("run", config=config, timeout=RUN_TIMEOUT)
    db = config.parent / "newswatch.db"
    return Pass(result, _query(db, "SELECT * FROM articles"), _query(db, "SELECT * FROM alerts"))


def entries(*expect: str) -> list[tuple[str, SampleArticle]]:
    return [
        (site, entry)
        for site in SITES
        for entry in MANIFEST[site].articles
        if not expect or entry.expect in expect
    ]


def print_report(crawl: Crawl) -> None:
    print("\n" + "=" * 100)
    for n, p in (("1", crawl.first), ("2", crawl.second)):
        print(f"pass {n}: exit code {p.result.code}")
        print(p.result.out.rstrip())
    for site, entry in entries():
        rows = crawl.rows_for(site, entry.path)
        print(f"{site:<12} {entry.kind:<40} expect={entry.expect}", end=" ")
        print(f"dup={entry.duplicate_of or '-'} relevant={entry.relevant}")
        for r in rows:
            print(
                f"{'':<13}got: lang={r['lang']} dup={crawl.name_of(r['duplicate_of']) or '-'} "
                f"overlap={r['overlap']} relevant={r['relevant']} alerts={crawl.alerts_for(r)}"
            )
        if not rows:
            print(f"{'':<13}got: not stored")
    print("=" * 100)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    work = tmp_path_factory.mktemp("syndication")
    root = work / "sites"
    shutil.copytree(DATA_DIR, root)
    config = work / "newswatch.toml"
    with serve_sites(root, SITES) as servers:
        bases = {name: servers[name] for name in SITES}
        write_config(config, MANIFEST, bases)
        first = _run_pass(config)
        for path in sorted((root / PASS_2_DIR).rglob("*")):
            if path.is_file():
                target = root / path.relative_to(root / PASS_2_DIR)
                target.write_bytes(path.read_bytes())
        second = _run_pass(config)
    result = Crawl(bases, first, second)
    print_report(result)
    yield result


# -- the manifest itself ---------------------------------------------------------------------
def test_manifest_is_consistent() -> None:
    seeds = {p.name for p in SEED_DIR.glob("*.txt")}
    paths = {f"{site}:{e.path}" for site, e in entries()}
    for site, entry in entries():
        pattern = re.compile(MANIFEST[site].source.article_pattern or "")
        url = "http://127.0.0.1:8000" + entry.path
        if entry.kind in ("contact", "about"):
            assert not pattern.search(url), entry
        elif entry.expect != "not-article":
            assert pattern.search(url), entry
        dup = entry.duplicate_of
        assert (dup is None) == (entry.expect != "duplicate"), entry
        assert dup is None or dup in seeds or dup in paths, entry
    assert {e.duplicate_of for _, e in entries("duplicate")} >= seeds


# -- the passes ------------------------------------------------------------------------------
def test_both_passes_succeed(crawl: Crawl) -> None:
    assert crawl.first.result.code == 0, crawl.first.result.err[-3000:]
    assert crawl.second.result.code == 0, crawl.second.result.err[-3000:]


def test_articles_are_stored_once_and_the_rest_not_at_all(crawl: Crawl) -> None:
    wrong = []
    for site, entry in entries():
        rows = crawl.rows_for(site, entry.path)
        want = 0 if entry.expect == "not-article" else 1
        if len(rows) != want:
            wrong.append(f"{site}{entry.path}: {len(rows)} row(s), expected {want}")
        elif rows and (rows[0]["source"], rows[0]["lang"]) != (site, entry.lang):
            wrong.append(f"{site}{entry.path}: source/lang {rows[0]['source']}/{rows[0]['lang']}")
    named = {url_key(crawl.url(site, e.path)) for site, e in entries()}
    extra = [
        r["url"]
        for r in crawl.second.rows
        if r["url_key"] not in named and not r["url"].startswith("seed:")
    ]
    assert not wrong and not extra, {"wrong": wrong, "unexpected rows": extra}


def test_seed_copies_are_duplicates_of_their_seed(crawl: Crawl) -> None:
    wrong = []
    for site, entry in entries("duplicate"):
        if entry.pair:
            continue
        for row in crawl.rows_for(site, entry.path):
            got = crawl.name_of(row["duplicate_of"])
            overlap = row["overlap"]
            if got != entry.duplicate_of or overlap is None or overlap < DUPLICATE_THRESHOLD:
                wrong.append(f"{entry.kind}: duplicate_of={got} overlap={overlap}")
            elif crawl.alerts_for(row):
                wrong.append(f"{entry.kind}: {crawl.alerts_for(row)} alert(s)")
    assert wrong == []


def test_a_copy_of_an_article_of_the_same_pass_is_its_duplicate(crawl: Crawl) -> None:
    pairs: dict[str, list[tuple[str, SampleArticle]]] = {}
    for site, entry in entries():
        if entry.pair:
            pairs.setdefault(entry.pair, []).append((site, entry))
    assert pairs
    for group, members in pairs.items():
        rows = [crawl.rows_for(site, e.path) for site, e in members]
        assert all(len(r) == 1 for r in rows), group
        (a,), (b,) = rows
        new, copy = (a, b) if a["duplicate_of"] is None else (b, a)
        assert new["duplicate_of"] is None and copy["duplicate_of"] == new["id"], (
            f"{group}: duplicate_of {a['duplicate_of']} / {b['duplicate_of']}"
        )
        assert copy["overlap"] >= DUPLICATE_THRESHOLD
        assert (crawl.alerts_for(new), crawl.alerts_for(copy)) == (1, 0)


def test_traps_and_new_articles_are_new(crawl: Crawl) -> None:
    wrong = []
    for site, entry in entries("new"):
        if entry.pair:
            continue
        for row in crawl.rows_for(site, entry.path):
            if row["duplicate_of"] is not None or row["overlap"] is not None:
                wrong.append(
                    f"{entry.kind}: duplicate_of={crawl.name_of(row['duplicate_of'])}"
                    f" overlap={row['overlap']}"
                )
    assert wrong == []


def test_relevance_and_one_alert_per_relevant_new_article(crawl: Crawl) -> None:
    wrong = []
    for site, entry in entries("new"):
        if entry.pair:
            continue
        for row in crawl.rows_for(site, entry.path):
            want = (int(entry.relevant), int(entry.relevant))
            got = (row["relevant"], crawl.alerts_for(row))
            if got != want:
                wrong.append(f"{entry.kind}: relevant/alerts {got}, expected {want}")
    for site, entry in entries("duplicate"):
        for row in crawl.rows_for(site, entry.path):
            if row["relevant"] != int(entry.relevant):
                wrong.append(f"{entry.kind}: relevant={row['relevant']}")
    assert wrong == []


def test_an_edited_article_is_updated_without_a_second_alert(crawl: Crawl) -> None:
    edited = [(s, e) for s, e in entries() if e.edited_in_pass_2]
    assert edited
    for site, entry in edited:
        (before,) = crawl.rows_for(site, entry.path, crawl.first)
        (after,) = crawl.rows_for(site, entry.path)
        assert entry.edited_in_pass_2 not in before["text"]
        assert entry.edited_in_pass_2 in after["text"]
        assert after["id"] == before["id"] and after["duplicate_of"] is None
        assert crawl.alerts_for(after) == 1


def test_the_second_pass_adds_no_row_and_no_alert(crawl: Crawl) -> None:
    assert len(crawl.second.rows) == len(crawl.first.rows)
    assert len(crawl.second.alerts) == len(crawl.first.alerts)
