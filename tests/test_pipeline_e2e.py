"""The whole pipeline on real components: a Scrapy crawl of sites served on 127.0.0.1, a real
SQLite file (and, for the main cases, a real PostgreSQL), a real Maildir or SMTP server.
Expected values come from the sites' MANIFEST."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import run_newswatch
from services.dataset import query_dataset

from samples.demo import DEMO_SITES
from samples.localserver import SITES_DIR, SiteServers
from samples.manifest import SampleArticle, load_manifest

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytestmark = pytest.mark.crawl  # every test runs newswatch or scrapy in a child process

pytest_plugins = ["smtpserver", "services.postgres"]

MANIFEST = load_manifest(SITES_DIR)


def articles_of(site: str) -> list[SampleArticle]:
    """The pages of a site that a pass stores (new or duplicate)."""
    return [a for a in MANIFEST[site].articles if a.stored]


query = query_dataset


def article_requests(servers: SiteServers, site: str) -> list[str]:
    paths = {a.path for a in MANIFEST[site].articles}
    return [
        r.target
        for r in servers.requests(site)
        if r.target.split("?")[0] in paths or r.target in paths
    ]


def test_first_pass_stores_the_right_rows(
    config_path: Path, servers: SiteServers, use_store_backend: Callable[[Path], Path]
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    result = run_newswatch("run", config=config_path)
    assert result.code == 0, result.err
    rows = {r["url"]: r for r in query(config_path, "SELECT * FROM articles")}
    seeds = {r["url"]: r["id"] for r in rows.values() if r["source"] == "seed"}
    assert len(seeds) == 5
    for site in DEMO_SITES:
        for a in articles_of(site):
            row = rows.get(servers[site] + a.path)
            assert row is not None, f"{site}{a.path} not stored"
            assert (row["source"], row["lang"]) == (site, a.lang)
            if a.copy_of_seed:
                assert row["duplicate_of"] == seeds[f"seed:{a.copy_of_seed}"], a.path
            else:
                assert row["duplicate_of"] is None, a.path
                assert bool(row["relevant"]) == a.relevant, a.path
        for a in MANIFEST[site].articles:
            if not a.stored:
                assert servers[site] + a.path not in rows
    stored = sum(len(articles_of(s)) for s in DEMO_SITES)
    assert len(rows) == stored + 5


def test_copies_raise_no_alert_and_new_relevant_items_one_each(
    config_path: Path, servers: SiteServers, use_store_backend: Callable[[Path], Path]
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    assert run_newswatch("run", config=config_path).code == 0
    alerted = [
        r["url"]
        for r in query(
            config_path, "SELECT articles.url FROM alerts JOIN articles ON articles.id = article_id"
        )
    ]
    expected = [
        servers[s] + a.path
        for s in DEMO_SITES
        for a in articles_of(s)
        if a.relevant and not a.copy_of_seed
    ]
    assert sorted(alerted) == sorted(expected)
    box = mailbox.Maildir(config_path.parent / "maildir", create=False)
    assert len(box) == len(expected)
    statuses = {r[0] for r in query(config_path, "SELECT status FROM alerts")}
    assert statuses == {"sent"}


def test_second_pass_fetches_no_article_and_alerts_nothing(
    config_path: Path, servers: SiteServers, use_store_backend: Callable[[Path], Path]
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    assert run_newswatch("run", config=config_path).code == 0
    before = query(config_path, "SELECT count(*) FROM alerts")[0][0]
    servers.clear_requests()
    second = run_newswatch("run", config=config_path)
    assert second.code == 0, second.err
    for site in DEMO_SITES:
        assert article_requests(servers, site) == [], site
    assert query(config_path, "SELECT count(*) FROM alerts")[0][0] == before
    first, last = query(config_path, "SELECT new, sources FROM runs ORDER BY id")
    assert last["new"] == 0
    # The page the feed lists but that answers 404 is remembered, not asked for again.
    assert json.loads(first["sources"])["bladi"]["errors"] == {"http_404": 1}
    assert json.loads(last["sources"])["bladi"]["errors"] == {}


NEW_ARTICLE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Drones : Rabat et Tel-Aviv signent un contrat de maintenance - Bladi.net</title>
<meta property="article:published_time" content="2026-11-20T09:00:00+01:00">
</head><body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/maroc.html">Maroc</a></li></ul></nav>
<div class="cookie">Nous utilisons des cookies pour améliorer votre expérience.</div>
<article><h1>Drones : Rabat et Tel-Aviv signent un contrat de maintenance</h1>
<p>Les Forces armées royales (FAR) et le ministère israélien de la Défense ont signé mercredi
à Rabat un contrat de maintenance pour la flotte de drones de surveillance acquise auprès
d'Israel Aerospace Industries, selon un communiqué de l'état-major marocain.</p>
<p>Le contrat prévoit la formation de quarante techniciens marocains en Israël, la livraison
de pièces détachées pendant cinq ans et l'ouverture d'un atelier commun près de Benslimane,
où Elbit Systems exploite déjà une usine.</p>
<p>Cette coopération militaire entre le Maroc et Israël s'est intensifiée depuis l'accord de
défense signé en novembre 2021 : renseignement, défense aérienne, guerre électronique et
industrie de défense figurent au programme du comité mixte qui se réunit deux fois par an.</p>
<p>Aucun montant n'a été communiqué. Les premières livraisons sont attendues au printemps
prochain, a précisé une source militaire citée par la presse locale.</p>
</article>
<section class="comments"><p>Très bonne nouvelle pour notre armée !</p></section>
<footer>© Bladi.net 2026</footer></body></html>
"""
NEW_PATH = "/drones-rabat-tel-aviv-contrat-maintenance,104700.html"


def add_article_to_bladi(site_root: Path) -> None:
    (site_root / "bladi" / NEW_PATH.lstrip("/")).write_text(NEW_ARTICLE, encoding="utf-8")
    feed = site_root / "bladi" / "spip.php@page=backend"
    item = (
        "<item><title>Drones : Rabat et Tel-Aviv signent un contrat de maintenance</title>"
        f"<link>{{{{base}}}}{NEW_PATH}?utm_source=rss</link>"
        "<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item>"
    )
    text = feed.read_text(encoding="utf-8")
    feed.write_text(text.replace("<item", item + "<item", 1), encoding="utf-8")


def test_a_new_relevant_article_raises_exactly_one_alert(
    config_path: Path,
    site_root: Path,
    servers: SiteServers,
    use_store_backend: Callable[[Path], Path],
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    assert run_newswatch("run", config=config_path).code == 0
    add_article_to_bladi(site_root)
    servers.clear_requests()
    assert run_newswatch("run", config=config_path).code == 0
    assert article_requests(servers, "bladi") == []  # the new page is not in the MANIFEST
    new = [r for r in servers.requests("bladi") if r.target.startswith(NEW_PATH)]
    assert [r.target for r in new] == [NEW_PATH]  # fetched once, tracking parameters gone
    rows = query(
        config_path,
        "SELECT alerts.status FROM alerts JOIN articles ON"
        " articles.id = article_id WHERE articles.url = ?",
        (servers["bladi"] + NEW_PATH,),
    )
    assert [r["status"] for r in rows] == ["sent"]
    total = query(config_path, "SELECT count(*) FROM alerts")[0][0]
    assert run_newswatch("run", config=config_path).code == 0
    assert query(config_path, "SELECT count(*) FROM alerts")[0][0] == total


def test_alerts_are_delivered_over_smtp(
    config_path: Path,
    servers: SiteServers,
    smtp_server: SmtpServer,
    use_store_backend: Callable[[Path], Path],
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    result = run_newswatch("run", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url})
    assert result.code == 0, result.err
    expected = [
        a.title for s in DEMO_SITES for a in articles_of(s) if a.relevant and not a.copy_of_seed
    ]
    mails = [m.message() for m in smtp_server.received]
    assert len(mails) == len(expected)
    assert all(m.rcpt_tos == ("analyst@example.org",) for m in smtp_server.received)
    bodies = "\n".join(m.get_body(("plain",)).get_content() for m in mails)  # type: ignore[union-attr]
    for title in expected:
        assert title in bodies
    assert "Bladi (sample)" in bodies  # the source's configured title names the outlet
    assert not (config_path.parent / "maildir").exists()


def test_a_source_that_is_down_fails_the_pass(
    config_path: Path,
    servers: SiteServers,
    use_store_backend: Callable[[Path], Path],
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    servers.take_down("bladna")
    result = run_newswatch("run", config=config_path)
    assert result.code == 1
    line = next(x for x in result.out.splitlines() if x.startswith("bladna"))
    assert "FAILED" in line and "refused" in line
    others = query(config_path, "SELECT count(*) FROM articles WHERE source = 'bladi'")[0][0]
    assert others == len(articles_of("bladi"))


def test_scrapy_finds_the_spider() -> None:
    import subprocess
    import sys

    root = Path(__file__).parent.parent
    out = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=root,
        text=True,
        capture_output=True,
        check=True,
    )
    assert out.stdout.split() == ["news"]


def relevant_titles() -> list[str]:
    return [
        a.title for s in DEMO_SITES for a in articles_of(s) if a.relevant and not a.copy_of_seed
    ]


def test_digest_mode_sends_one_email_with_every_item(
    config_path: Path,
    servers: SiteServers,
    use_store_backend: Callable[[Path], Path],
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    text = config_path.read_text(encoding="utf-8").replace('mode = "each"', 'mode = "digest"')
    config_path.write_text(text, encoding="utf-8")
    assert run_newswatch("run", config=config_path).code == 0
    box = mailbox.Maildir(config_path.parent / "maildir", create=False)
    (message,) = box.values()
    body = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    for title in relevant_titles():
        assert title in body


def test_smtp_down_loses_nothing_and_the_next_pass_sends_once(
    config_path: Path,
    servers: SiteServers,
    closed_port: int,
    smtp_server: SmtpServer,
    use_store_backend: Callable[[Path], Path],
) -> None:
    use_store_backend(config_path)  # on SQLite and on PostgreSQL
    down = run_newswatch(
        "run", config=config_path, env={"NEWSWATCH_SMTP_URL": f"smtp://127.0.0.1:{closed_port}"}
    )
    assert down.code == 3
    assert f"127.0.0.1:{closed_port}" in down.err
    pending = query(config_path, "SELECT count(*) FROM alerts WHERE status = 'pending'")[0][0]
    assert pending == len(relevant_titles())
    up = run_newswatch("run", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url})
    assert up.code == 0, up.err
    assert len(smtp_server.received) == len(relevant_titles())
    again = run_newswatch(
        "alerts", "send", config=config_path, env={"NEWSWATCH_SMTP_URL": smtp_server.url}
    )
    assert again.code == 0
    assert len(smtp_server.received) == len(relevant_titles())


def test_a_bad_smtp_url_stops_the_pass_before_any_request(
    config_path: Path, servers: SiteServers
) -> None:
    result = run_newswatch("run", config=config_path, env={"NEWSWATCH_SMTP_URL": "smtp://"})
    assert result.code == 2
    assert "NEWSWATCH_SMTP_URL" in result.err
    assert all(servers.requests(site) == [] for site in DEMO_SITES)


def test_without_article_pattern_or_feed_a_section_page_still_finds_the_articles(
    tmp_path: Path, servers: SiteServers
) -> None:
    base = servers["bladi"]
    config = tmp_path / "nopattern.toml"
    config.write_text(
        '[store]\npath = "np.db"\n[alerts]\nto = ["a@example.org"]\nmaildir = "mail"\n'
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\n"
        'allow_private_targets = ["127.0.0.1"]\n'
        f'[[sources]]\nname = "bladi"\nlang = "fr"\nstart_urls = ["{base}/maroc.html"]\n',
        encoding="utf-8",
    )
    assert run_newswatch("run", config=config).code == 0
    conn = sqlite3.connect(tmp_path / "np.db")
    stored = {r[0] for r in conn.execute("SELECT url FROM articles WHERE source = 'bladi'")}
    expected = {
        base + a.path
        for a in articles_of("bladi")
        if a.section_page is not None and a.section_page <= 3
    }
    assert expected and expected <= stored
    not_articles = {base + a.path for a in MANIFEST["bladi"].articles if a.kind == "not-article"}
    assert not stored & not_articles
    # With no feed configured, the feed the section page advertises is read too.
    via = {r[0] for r in conn.execute("SELECT found_via FROM articles WHERE source = 'bladi'")}
    assert via == {"feed", "section"}
