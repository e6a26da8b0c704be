"""Stories end to end: ``newswatch run`` over the demo's sites on 127.0.0.1, in two phases,
read from the Maildir. One email per story for its first report, nothing on a re-run, one
update for a story's later news with the article below the topic's threshold marked "also
covered by", and a copy of a seed never alerted."""

from __future__ import annotations

import mailbox
import sqlite3
from email.message import Message
from pathlib import Path

import pytest
from conftest import run_newswatch

from samples.localserver import SITES_DIR, SiteServers
from samples.manifest import load_manifest

pytestmark = pytest.mark.crawl  # newswatch runs in a child process

MANIFEST = load_manifest(SITES_DIR)
ELBIT_STORY = "Elbit Systems inaugure son usine de Benslimane"
PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title} - Bladi.net</title>
<meta property="article:published_time" content="{published}">
</head><body><nav><ul><li><a href="/">Accueil</a></li></ul></nav>
<article><h1>{title}</h1>{paragraphs}</article><footer>© Bladi.net 2026</footer></body></html>
"""
REPORT = (
    "/benslimane-usine-elbit-premiers-drones,104720.html",
    "Benslimane : l'usine d'Elbit Systems livre ses premiers drones aux FAR",
    "2026-10-16T11:00:00+01:00",
    [
        "Au lendemain de son inauguration, l'usine du groupe israélien Elbit Systems à"
        " Benslimane a livré ses premiers sous-ensembles de drones aux Forces armées royales,"
        " selon l'administration de la défense nationale.",
        "Le site de Benslimane, entre Rabat et Casablanca, emploie environ 150 personnes et doit"
        " assembler des composants de drones et des équipements électroniques pour les FAR. La"
        " coopération militaire entre le Maroc et Israël, encadrée par l'accord de défense"
        " signé à Rabat en novembre 2021, prévoit la formation de techniciens marocains dans"
        " les usines d'Elbit en Israël.",
        "La direction d'Elbit Systems évoque des exportations vers l'Afrique et l'Europe à"
        " partir de l'usine de Benslimane, qui bénéficie de la loi marocaine de 2020 sur les"
        " industries de défense.",
    ],
)
JOBS = (  # the same story told as a jobs item: below the topic's threshold
    "/emploi-usine-elbit-benslimane-recrute,104721.html",
    "Emploi : l'usine Elbit de Benslimane recrute 150 techniciens",
    "2026-10-17T09:00:00+01:00",
    [
        "L'usine d'Elbit Systems inaugurée cette semaine dans la zone industrielle de"
        " Benslimane recrute 150 techniciens et ingénieurs, a annoncé l'agence régionale pour"
        " l'emploi de Casablanca-Settat.",
        "Les candidats retenus suivront une formation de six mois avant de rejoindre les"
        " ateliers d'assemblage de cartes électroniques du site de Benslimane, situé entre"
        " Rabat et Casablanca.",
        "Les salaires proposés dépassent de 20 % la moyenne régionale, selon l'agence, qui"
        " reçoit déjà des centaines de candidatures de jeunes diplômés des écoles d'ingénieurs"
        " de Casablanca et de Rabat.",
    ],
)


def add_to_bladi(site_root: Path, page: tuple[str, str, str, list[str]]) -> None:
    path, title, published, paragraphs = page
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = PAGE.format(title=title, published=published, paragraphs=body)
    (site_root / "bladi" / path.lstrip("/")).write_text(html, encoding="utf-8")
    feed = site_root / "bladi" / "spip.php@page=backend"
    item = f"<item><title>{title}</title><link>{{{{base}}}}{path}</link></item>"
    text = feed.read_text(encoding="utf-8")
    feed.write_text(text.replace("<item", item + "<item", 1), encoding="utf-8")


def plain(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def mails(config: Path) -> dict[str, str]:
    """Every email in the Maildir, by file name: subject and plain text."""
    box = mailbox.Maildir(config.parent / "maildir", create=False)
    return {key: f"{msg['Subject']}\n{plain(msg)}" for key, msg in box.items()}


def query(config: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def run(config: Path) -> None:
    result = run_newswatch("run", config=config)
    assert result.code == 0, result.err


def test_one_email_per_story_then_one_update_and_never_twice(
    config_path: Path, site_root: Path, servers: SiteServers
) -> None:
    run(config_path)
    first = mails(config_path)
    alerted = query(
        config_path,
        "SELECT ar.url, ar.story_id FROM alerts al JOIN articles ar ON ar.id = al.article_id",
    )
    assert len(first) == len({story for _, story in alerted}) == 6
    text = "\n".join(first.values())
    assert all(str(url) in text for url, _ in alerted)  # every alerted article is in a mail
    for site in MANIFEST.values():
        for a in site.articles:
            if a.copy_of_seed:  # a copy of a seed never alerts
                assert servers[site.name] + a.path not in text, a.path

    run(config_path)  # nothing new: nothing sent
    assert mails(config_path) == first

    add_to_bladi(site_root, REPORT)
    add_to_bladi(site_root, JOBS)
    run(config_path)
    second = mails(config_path)
    (update,) = [body for key, body in second.items() if key not in first]
    report_url, jobs_url = (servers["bladi"] + page[0] for page in (REPORT, JOBS))
    assert report_url in update and jobs_url in update
    assert ELBIT_STORY in update  # the story it updates
    assert "Also covered by" in update  # the jobs item, below the topic's threshold
    rows = query(
        config_path,
        "SELECT ar.url, ar.relevant, al.status, s.title FROM alerts al"
        " JOIN articles ar ON ar.id = al.article_id JOIN stories s ON s.id = ar.story_id"
        f" WHERE ar.url IN ('{report_url}', '{jobs_url}') ORDER BY ar.url",
    )
    assert rows == [
        (report_url, 1, "sent", ELBIT_STORY),
        (jobs_url, 0, "sent", ELBIT_STORY),
    ]

    run(config_path)  # and never twice
    assert mails(config_path) == second
