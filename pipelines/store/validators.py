"""HTTP validators: what each discovery page answered last time (ETag, Last-Modified, links)."""

from __future__ import annotations

from pipelines.clock import utcnow
from pipelines.store.base import StoreBase

# One source's discovery pages: url -> (ETag, Last-Modified, links JSON).
Validators = dict[str, tuple[str, str, str]]


class ValidatorOps(StoreBase):
    """Operations on ``http_validators``, kept per (source, url)."""

    def load_validators(self, source: str) -> Validators:
        """A source's discovery pages: ETag, Last-Modified, links ("" when there are none).

        Sent back as If-None-Match / If-Modified-Since, so an unchanged page costs a 304;
        the links stand in for what the 304 hides.
        """
        rows = self.db.execute(
            "SELECT url, coalesce(etag, ''), coalesce(last_modified, ''), coalesce(links, '')"
            " FROM http_validators WHERE source = ?",
            [source],
        )
        return {str(r[0]): (str(r[1]), str(r[2]), str(r[3])) for r in rows}

    def save_validators(self, source: str, validators: Validators) -> None:
        """Keep what a source's discovery pages answered in this pass, for the next one."""
        now = utcnow()
        with self.transaction():
            for url, (etag, modified, links) in validators.items():
                self.db.execute(
                    "INSERT OR REPLACE INTO http_validators (url, source, etag, last_modified,"
                    " links, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [url, source, etag or None, modified or None, links or None, now],
                )
