"""An independent end-to-end check of newswatch against sites its rules were not tuned on.

``samples/holdout`` holds four small static news sites (an Arc XP site and a
WordPress site in French, a Dutch news site, an English defense-trade site) with the
boilerplate real sites carry. They are served on 127.0.0.1 and crawled by ``newswatch run``
through a config built from their MANIFEST.json; then the ``articles`` and ``alerts`` tables and
the Maildir are compared with what an analyst expects for every page:

- every article is stored exactly once, with its language; contact, author and tag pages and
  the page a feed lists but that answers 404 are not stored;
- a republished seed article (copied whole, retitled with a sentence added, or with a sentence
  cut) is a duplicate of that seed and raises no alert;
- the traps are new articles: one sharing a background sentence with a seed, two that open
  with a teaser line of a seed, one telling a seed's story in another language;
- every relevant new article (Morocco–Israel bilateral defence) raises exactly one alert and
  one email; near misses (tourism, trade, other countries' arms deals, protests...) raise none;
  alert precision and recall are both at least 0.9.

The per-page report is printed; run ``pytest -s tests/test_holdout_sites.py`` to read it.
"""

from __future__ import annotations

import mailbox
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from conftest import run_newswatch

from pipelines.dedup import shingle_hashes
from pipelines.urls import url_key
from samples.localserver import serve_sites
from samples.manifest import HOLDOUT_DIR, SampleArticle, load_manifest, write_config

pytestmark = pytest.mark.crawl  # one newswatch pass over the holdout sites

SEED_DIR = Path(__file__).resolve().parents[1] / "pipelines" / "seed_corpus"
MANIFEST = load_manifest(HOLDOUT_DIR)
SITES = tuple(MANIFEST)
NOT_STORED = {"missing", "not-article"}
MIN_PRECISION = 0.9
MIN_RECALL = 0.9
RUN_TIMEOUT = 600.0


@dataclass
class Page:
    """One manifest row, what the analyst expects of it and what newswatch did with it."""

    site: str
    entry: SampleArticle
    url: str
    rows: list[sqlite3.Row] = field(default_factory=list)
    alerts: list[sqlite3.Row] = field(default_factory=list)
    emails: int = 0
    closest_seed: tuple[str, float] | None = None  # own text's best containment in a seed

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def expect_stored(self) -> bool:
        return self.kind not in NOT_STORED

    @property
    def expect_seed(self) -> str | None:
        return self.entry.copy_of_seed

    @property
    def expect_alert(self) -> bool:
        return self.expect_stored and self.entry.relevant and not self.expect_seed

    def problems(self, seed_names: Mapping[int, str]) -> list[str]:
        found = []
        if not self.expect_stored:
            if self.rows:
                found.append(f"stored ({len(self.rows)} row(s)) but is {self.kind}")
            return found
        if len(self.rows) != 1:
            found.append(f"stored {len(self.rows)} time(s), expected once")
            return found
        row = self.rows[0]
        if row["source"] != self.site:
            found.append(f"source {row['source']!r}, expected {self.site!r}")
        if row["lang"] != self.entry.lang:
            found.append(f"lang {row['lang']!r}, expected {self.entry.lang!r}")
        dup = seed_names.get(row["duplicate_of"], row["duplicate_of"])
        if dup != self.expect_seed:
            found.append(f"duplicate_of {dup!r}, expected {self.expect_seed!r}")
        if len(self.alerts) != int(self.expect_alert):
            found.append(f"{len(self.alerts)} alert(s), expected {int(self.expect_alert)}")
        if self.emails != len(self.alerts):
            found.append(f"{self.emails} email(s) for {len(self.alerts)} alert(s)")
        return found


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    seconds: float
    pages: list[Page]
    seed_ids: dict[str, int]  # seed file name -> article id
    unexpected_rows: list[sqlite3.Row]  # stored rows no manifest entry names
    unexpected_alerts: list[sqlite3.Row]
    alert_count: int
    alert_messages: int  # distinct Message-IDs of the alert rows: one per story alerted
    email_count: int
    orphan_emails: list[str]  # Message-IDs with no alert row
    alerts_without_email: list[int]
    emails_without_url: list[str]  # alert emails whose text does not name the article URL

    @property
    def seed_names(self) -> dict[int, str]:
        return {v: k for k, v in self.seed_ids.items()}

    def expected_alert_urls(self) -> set[str]:
        return {p.url for p in self.pages if p.expect_alert}

    def alerted_urls(self) -> set[str]:
        urls = {p.url for p in self.pages if p.alerts}
        return urls | {f"(unlisted) {a['url']}" for a in self.unexpected_alerts}

    def precision_recall(self) -> tuple[float, float]:
        expected, alerted = self.expected_alert_urls(), self.alerted_urls()
        hits = len(expected & alerted)
        precision = hits / len(alerted) if alerted else 0.0
        recall = hits / len(expected) if expected else 1.0
        return precision, recall


def _query(db: Path | tuple[str, str], sql: str) -> list[sqlite3.Row]:
    if isinstance(db, tuple):  # PostgreSQL: (url, password)
        from services.postgres import query_postgres

        return query_postgres(db[0], sql, (), db[1])  # type: ignore[return-value]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _message_ids(maildir: Path) -> list[tuple[str, Message]]:
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    return [(str(msg["Message-ID"] or ""), msg) for msg in box]


def _plain_text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _collect(
    bases: Mapping[str, str],
    work: Path,
    result: Any,
    seconds: float,
    postgres: tuple[str, str] | None = None,
) -> Outcome:
    db: Path | tuple[str, str] = postgres or work / "newswatch.db"
    exists = postgres is not None or (work / "newswatch.db").exists()
    rows = _query(db, "SELECT * FROM articles") if exists else []
    alerts = (
        _query(
            db,
            "SELECT alerts.*, articles.url, articles.url_key AS key FROM alerts"
            " JOIN articles ON articles.id = alerts.article_id",
        )
        if exists
        else []
    )
    seed_ids = {
        r["url"].removeprefix("seed:"): r["id"] for r in rows if r["url"].startswith("seed:")
    }
    seed_shingles = {
        r["url"].removeprefix("seed:"): shingle_hashes(r["text"] or "")
        for r in rows
        if r["url"].startswith("seed:")
    }
    by_key: dict[str, list[sqlite3.Row]] = {}
    for r in rows:
        by_key.setdefault(r["url_key"], []).append(r)
    alerts_by_key: dict[str, list[sqlite3.Row]] = {}
    for a in alerts:
        alerts_by_key.setdefault(a["key"], []).append(a)
    emails = _message_ids(work / "maildir")
    email_ids = [mid for mid, _ in emails]

    pages, claimed = [], set()
    for site in SITES:
        for entry in MANIFEST[site].articles:
            url = bases[site] + entry.path
            key = url_key(url)
            claimed.add(key)
            page = Page(site, entry, url, by_key.get(key, []), alerts_by_key.get(key, []))
            page.emails = sum(email_ids.count(a["message_id"]) for a in page.alerts)
            if page.rows and page.rows[0]["text"]:
                own = shingle_hashes(page.rows[0]["text"])
                if own and seed_shingles:
                    page.closest_seed = max(
                        ((name, len(own & s) / len(own)) for name, s in seed_shingles.items()),
                        key=lambda t: t[1],
                    )
            pages.append(page)
    unexpected = [
        r for r in rows if r["url_key"] not in claimed and not r["url"].startswith("seed:")
    ]
    alert_ids = {a["message_id"] for a in alerts}
    bodies = {mid: _plain_text(msg) for mid, msg in emails}
    no_url = [a["url"] for a in alerts if a["url"] not in bodies.get(a["message_id"], a["url"])]
    return Outcome(
        code=result.code,
        out=result.out,
        err=result.err,
        seconds=seconds,
        pages=pages,
        seed_ids=seed_ids,
        unexpected_rows=unexpected,
        unexpected_alerts=[a for a in alerts if a["key"] not in claimed],
        alert_count=len(alerts),
        alert_messages=len({a["message_id"] for a in alerts if a["message_id"]}),
        email_count=len(emails),
        orphan_emails=[mid for mid in email_ids if mid not in alert_ids],
        alerts_without_email=[a["id"] for a in alerts if a["message_id"] not in email_ids],
        emails_without_url=no_url,
    )


def _short(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def print_report(o: Outcome) -> None:
    seeds = o.seed_names
    print("\n" + "=" * 100)
    print(f"newswatch run on the holdout sites: exit code {o.code}, {o.seconds:.1f} s")
    print("-" * 100)
    print(o.out.rstrip())
    if o.code != 0:
        print("stderr (last 3000 characters):\n" + o.err[-3000:])
    print("-" * 100)
    print("Per page: expected -> actual. Columns: stored / duplicate_of / alert.")
    mismatches = 0
    for p in o.pages:
        problems = p.problems(seeds)
        mismatches += bool(problems)
        mark = "ok  " if not problems else "MISS"
        exp = (
            f"stored={'yes' if p.expect_stored else 'no'} dup={p.expect_seed or '-'} "
            f"alert={'yes' if p.expect_alert else 'no'}"
        )
        if p.rows:
            row = p.rows[0]
            dup = seeds.get(row["duplicate_of"], row["duplicate_of"]) or "-"
            overlap = f" overlap={row['overlap']}" if row["overlap"] is not None else ""
            act = (
                f"stored={len(p.rows)} lang={row['lang']} dup={dup}{overlap} "
                f"relevant={row['relevant']} alerts={len(p.alerts)} emails={p.emails} "
                f"via={row['found_via']}"
            )
            if p.closest_seed:
                act += f" closest-seed={p.closest_seed[0][:3]}:{p.closest_seed[1]:.2f}"
            topics = row["topics"] if row["topics"] not in (None, "[]") else ""
            if topics:
                act += f" topics={_short(topics, 60)}"
        else:
            act = "not stored" + (f", alerts={len(p.alerts)}" if p.alerts else "")
        print(f"{mark} {p.site:<11} {p.kind:<19} {_short(p.entry.title, 70)}")
        print(f"       {p.entry.path}")
        print(f"       expected: {exp}")
        print(f"       actual:   {act}")
        if p.rows and (p.rows[0]["title"] or "") != p.entry.title:
            print(f"       note: stored title {p.rows[0]['title']!r}")
        for problem in problems:
            print(f"       !! {problem}")
    for r in o.unexpected_rows:
        mismatches += 1
        print(f"MISS unexpected stored row: {r['source']} {r['url']} (relevant={r['relevant']})")
    for a in o.unexpected_alerts:
        print(f"MISS alert for a page no manifest row names: {a['url']}")
    precision, recall = o.precision_recall()
    expected, alerted = o.expected_alert_urls(), o.alerted_urls()
    print("-" * 100)
    print(f"pages: {len(o.pages)}, with a mismatch: {mismatches}")
    print(
        f"alerts: {o.alert_count} in the alerts table, {o.email_count} email(s) in the Maildir; "
        f"expected {len(expected)}"
    )
    print(
        f"alert precision {precision:.3f}  recall {recall:.3f}  "
        f"(true positives {len(expected & alerted)})"
    )
    for url in sorted(alerted - expected):
        print(f"  false positive: {url}")
    for url in sorted(expected - alerted):
        print(f"  missed:         {url}")
    if o.orphan_emails:
        print(f"  emails without an alert row: {o.orphan_emails}")
    if o.alerts_without_email:
        print(f"  alert ids without an email: {o.alerts_without_email}")
    for url in o.emails_without_url:
        print(f"  alert email does not name its article: {url}")
    print("=" * 100)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def outcome(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Outcome]:
    """One pass over the holdout sites, with the dataset in a SQLite file, then in
    PostgreSQL: every test below reads both."""
    from services.postgres import PASSWORD_ENV, point_at, session_server

    work = tmp_path_factory.mktemp("holdout")
    config = work / "newswatch.toml"
    postgres: tuple[str, str] | None = None
    with serve_sites(HOLDOUT_DIR, SITES) as servers:
        bases = {name: servers[name] for name in SITES}
        write_config(config, MANIFEST, bases)
        if request.param == "postgresql":
            server = session_server()
            name = server.fresh_database()
            request.addfinalizer(lambda: server.drop_database(name))
            postgres = (server.url(name), server.password)
            point_at(config, postgres[0])
        env = {PASSWORD_ENV: postgres[1]} if postgres else {}
        started = time.monotonic()
        result = run_newswatch("run", config=config, timeout=RUN_TIMEOUT, env=env)
        seconds = time.monotonic() - started
    o = _collect(bases, work, result, seconds, postgres)
    print_report(o)
    yield o


# -- the manifest itself ---------------------------------------------------------------------
def test_manifest_patterns_match_articles_only() -> None:
    for site, spec in MANIFEST.items():
        assert spec.source.article_pattern is not None
        pattern = re.compile(spec.source.article_pattern)
        for entry in spec.articles:
            url = "http://127.0.0.1:8000" + entry.path
            assert bool(pattern.search(url)) == (entry.kind != "not-article"), (site, entry)
        for path in spec.section_pages:
            assert not pattern.search("http://127.0.0.1:8000" + path), (site, path)


# -- the pass ------------------------------------------------------------------------------
def test_the_pass_succeeds(outcome: Outcome) -> None:
    assert outcome.code == 0, outcome.err[-3000:]
    assert set(outcome.seed_ids) == {p.name for p in SEED_DIR.glob("*.txt")}


def test_every_article_is_stored_once_with_its_language(outcome: Outcome) -> None:
    wrong = []
    for p in outcome.pages:
        if not p.expect_stored:
            continue
        if len(p.rows) != 1:
            wrong.append(f"{p.url}: {len(p.rows)} row(s)")
        elif (p.rows[0]["source"], p.rows[0]["lang"]) != (p.site, p.entry.lang):
            wrong.append(f"{p.url}: source/lang {p.rows[0]['source']}/{p.rows[0]['lang']}")
    extra = [r["url"] for r in outcome.unexpected_rows]
    assert not wrong and not extra, {"wrong": wrong, "unexpected rows": extra}


def test_non_articles_and_missing_pages_are_not_stored(outcome: Outcome) -> None:
    stored = [p.url for p in outcome.pages if not p.expect_stored and p.rows]
    assert stored == []


def test_seed_copies_are_duplicates_of_their_seed_and_raise_no_alert(outcome: Outcome) -> None:
    copies = [p for p in outcome.pages if p.expect_seed]
    assert {p.expect_seed for p in copies} >= {
        "000_656ca41c9afb6130.txt",
        "002_9fa98d75917ce04d.txt",
    }
    wrong = []
    for p in copies:
        if len(p.rows) != 1:
            wrong.append(f"{p.url}: stored {len(p.rows)} time(s)")
            continue
        got = p.rows[0]["duplicate_of"]
        if got != outcome.seed_ids.get(p.expect_seed or "") or p.alerts:
            wrong.append(
                f"{p.url}: duplicate_of={outcome.seed_names.get(got, got)} "
                f"(expected {p.expect_seed}), alerts={len(p.alerts)}"
            )
    assert wrong == []


def test_traps_are_new_articles(outcome: Outcome) -> None:
    traps = [p for p in outcome.pages if p.kind.startswith("trap-")]
    assert {p.kind for p in traps} == {"trap-background", "trap-teaser", "trap-other-language"}
    wrong = [
        f"{p.url}: duplicate_of={outcome.seed_names.get(p.rows[0]['duplicate_of'])}"
        for p in traps
        if len(p.rows) == 1 and p.rows[0]["duplicate_of"] is not None
    ]
    missing = [p.url for p in traps if len(p.rows) != 1]
    assert not wrong and not missing, {"duplicates": wrong, "not stored once": missing}


def test_one_alert_per_relevant_new_article(outcome: Outcome) -> None:
    wrong = [
        f"{p.kind} {p.url}: {len(p.alerts)} alert(s)"
        for p in outcome.pages
        if p.expect_alert and len(p.alerts) != 1
    ]
    assert wrong == []


def test_one_email_per_story_naming_every_article_it_carries(outcome: Outcome) -> None:
    # The articles of one story travel in one email: each alert row is in exactly one
    # email, each email carries at least one alert row and names every article's URL.
    assert outcome.email_count == outcome.alert_messages <= outcome.alert_count
    assert outcome.orphan_emails == []
    assert outcome.alerts_without_email == []
    assert outcome.emails_without_url == []


def test_alert_precision_and_recall(outcome: Outcome) -> None:
    precision, recall = outcome.precision_recall()
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, (
        f"precision {precision:.3f}, recall {recall:.3f}; "
        f"false positives {sorted(outcome.alerted_urls() - outcome.expected_alert_urls())}; "
        f"missed {sorted(outcome.expected_alert_urls() - outcome.alerted_urls())}"
    )
