"""URLs: which pages were seen, as what, and which stored article a URL names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase
from pipelines.urls import same_site, url_key

# A page that answered 404/410 may be a feed item published before its page went live:
# it is tried again once a day, three times at most, then left alone.
GONE_RETRY_AFTER = timedelta(hours=24)
GONE_MAX_FAILS = 3


class UrlOps(StoreBase):
    """Operations on ``seen_urls`` and on the URLs of stored articles."""

    def remember_url(
        self,
        *,
        url_key: str,
        url: str,
        source: str,
        status: str,
        http_status: int | None = None,
        article_id: int | None = None,
    ) -> None:
        """Remember a URL as ``article``, ``not_article`` or ``gone`` so no pass fetches it again.

        A gone page counts its failures (see GONE_MAX_FAILS); any other answer resets them.
        """
        now = utcnow()
        self.db.execute(
            "INSERT INTO seen_urls (url_key, url, source, status, http_status, first_seen,"
            " last_seen, article_id, fails) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(url_key) DO UPDATE SET status=excluded.status,"
            " fails=CASE WHEN excluded.status = 'gone' THEN seen_urls.fails + 1 ELSE 0 END,"
            " http_status=excluded.http_status, last_seen=excluded.last_seen,"
            " article_id=coalesce(excluded.article_id, seen_urls.article_id)",
            [
                url_key,
                url,
                source,
                status,
                http_status,
                now,
                now,
                article_id,
                int(status == "gone"),
            ],
        )

    def known_url_keys(self) -> set[str]:
        """URL keys not to fetch: articles, remembered non-articles, and gone pages not yet due."""
        keys = {str(r[0]) for r in self.db.execute("SELECT url_key FROM articles")}
        retry_before = (datetime.now(UTC) - GONE_RETRY_AFTER).replace(microsecond=0).isoformat()
        keys |= {
            str(r[0])
            for r in self.db.execute(
                "SELECT url_key FROM seen_urls"
                " WHERE status != 'gone' OR fails >= ? OR last_seen > ?",
                [GONE_MAX_FAILS, retry_before],
            )
        }
        return keys

    def article_check_times(self) -> dict[str, str]:
        """When each stored article's page was last fetched (URL key -> ISO 8601 UTC).

        A feed or sitemap that says an article changed after that time gets it fetched again.
        """
        return {
            str(r[0]): str(r[1])
            for r in self.db.execute(
                "SELECT a.url_key, COALESCE(MAX(s.last_seen), a.fetched_at) FROM articles a"
                " LEFT JOIN seen_urls s ON s.article_id = a.id AND s.status = 'article'"
                " WHERE a.source != 'seed' GROUP BY a.id"
            )
        }

    def canonical_target(self, url: str, canonical: str | None) -> str | None:
        """The stored article a page's rel=canonical names, when it is another URL of its site.

        A copy on another site that names the original stays a row of its own (a duplicate),
        so that alerts can list where else an article appeared.
        """
        if not canonical or url_key(canonical) == url_key(url) or not same_site(canonical, url):
            return None
        row = self.db.execute(
            "SELECT url FROM articles WHERE url_key = ?", [url_key(canonical)]
        ).fetchone()
        return str(row[0]) if row else None
