"""Two crawls storing one page at once (two Scrapyd jobs of one pass, two processes on a
shared frontier): the second finds the first's row inside its write transaction, on both
backends, instead of failing on the URL's uniqueness."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.models import Page
from pipelines.process import ProcessOptions, _insert, prepare_page, store_page
from pipelines.seeds import import_seeds
from pipelines.store import Store
from pipelines.topics import default_topics
from pipelines.urls import url_key
from samples.localserver import SITES_DIR

pytest_plugins = ["services.postgres"]  # open_backend_store: SQLite and PostgreSQL

ARTICLE = SITES_DIR / "bladi" / "maroc-commande-deuxieme-batterie-barak-mx,104672.html"


def test_a_page_stored_by_another_crawl_meanwhile_is_not_stored_twice(
    open_backend_store: Callable[[], Store],
) -> None:
    first, second = open_backend_store(), open_backend_store()  # two connections
    import_seeds(first, default_topics())
    options = ProcessOptions(topics=default_topics())
    url = "https://www.bladi.example/maroc-commande-deuxieme-batterie-barak-mx,104672.html"
    page = Page(url=url, final_url=url, body=ARTICLE.read_bytes(), source="bladi")
    prepared = prepare_page(page, options)
    keys = {url_key(url)}
    assert second.article_id_by_keys(keys) is None  # the second crawl looked: not stored
    stored = store_page(first, page, prepared, options)  # then the first crawl stored it
    assert stored.kind == "new"
    outcome = _insert(second, prepared, page, options, keys)  # the second stores it now
    assert outcome.kind == "unchanged" and outcome.article_id == stored.article_id
    rows = list(first.db.query("SELECT id FROM articles WHERE source = 'bladi'"))
    assert [r["id"] for r in rows] == [stored.article_id]
    alerts = list(first.db.query("SELECT article_id FROM alerts"))
    assert len(alerts) == stored.alerts
