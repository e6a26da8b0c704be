"""Alert items and stored alerts the desk tests share."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pipelines.mail import AlertItem, Outlet
from pipelines.store import Store, table

# The config the digest and preview tests start from.
DESK_TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
maildir = "mail"
timezone = "Europe/Paris"
"""


def item(**changes: Any) -> AlertItem:
    base = AlertItem(
        alert_id=7,
        topic="morocco-israel",
        topic_title="Morocco–Israel defence",
        article_id=42,
        url="https://www.hespress.com/301200-maroc-israel-drones.html",
        title="Le Maroc acquiert des drones israéliens",
        source="Hespress FR",
        published="2026-11-18T10:35:00+01:00",
        lang="fr",
        score=53.0,
        terms={"morocco": ["Maroc"], "israel": ["Israël"], "defence": ["drones", "Barak MX"]},
        snippet=(
            "… selon des sources concordantes. Le Maroc acquiert des drones et le système"
            " Barak MX auprès d'Israël, annonce le ministère."
        ),
        copies=[],
    )
    return replace(base, **changes)


def outlet(n: int, kind: str, lang: str = "en") -> Outlet:
    return Outlet(
        article_id=100 + n,
        url=f"https://outlet{n}.example/{n}",
        title=f"Report {n}",
        source=f"Outlet {n}",
        domain=f"outlet{n}.example",
        lang=lang,
        published="2026-11-18T12:00:00+00:00",
        kind=kind,
    )


def add_alert(
    store: Store, n: int, *, topic: str = "defence", created_at: str = "2026-03-01T07:00:00+00:00"
) -> int:
    """An article that matched ``topic`` and its pending alert."""
    match = {
        "topic": topic,
        "score": 0.9,
        "terms": {"defence": ["drones"]},
        "snippet": f"Le Maroc achète des drones, article {n}.",
    }
    article = table(store.db, "articles").insert(
        {
            "url": f"https://news.example.org/a{n}",
            "url_key": f"news.example.org/a{n}",
            "source": "bladi",
            "title": f"Article {n}",
            "text": f"texte {n}",
            "lang": "fr",
            "published": f"2026-03-01T0{n % 10}:00:00+00:00",
            "fetched_at": "2026-03-01T07:00:00+00:00",
            "relevant": 1,
            "topics": json.dumps([match]),
        }
    )
    row = {"article_id": article.last_pk, "topic": topic, "created_at": created_at}
    pk = table(store.db, "alerts").insert(row).last_pk
    assert isinstance(pk, int)
    return pk
