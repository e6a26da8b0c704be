"""The sitemaps a source's robots.txt files name, kept for the end of its crawl.

They are read last, when the configured feeds, sitemaps and section pages (and what they
led to) are done: they fill gaps, and an article those found keeps the richer hints (a
feed's date) and the way it was found. Only sitemaps of the robots.txt's own site count.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

from protego import Protego
from scrapy.http import Response, TextResponse

from crawler.discovery import robots_url
from pipelines.urls import same_site


class RobotsSitemaps:
    def __init__(self, configured_urls: Iterable[str]) -> None:
        self.files = sorted({robots_url(u) for u in configured_urls})  # one per site
        self.pending: list[str] = []

    def parsed(self, robotparser: Any, url: str) -> None:
        """Scrapy's robots middleware read a robots.txt (``robots_parsed`` signal)."""
        rules = getattr(robotparser, "rp", None)
        robots = robots_url(url)
        if isinstance(rules, Protego) and robots in self.files:
            self._keep(rules, robots)

    def read(self, response: Response, robots: str) -> None:
        """The robots.txt at ``robots``, asked for by the spider itself (Scrapy does not
        read it when it need not obey it)."""
        if response.status == 200 and isinstance(response, TextResponse):
            self._keep(Protego.parse(response.text), robots)

    def take(self, asked: Container[str]) -> list[str]:
        """The sitemaps not asked for yet; each is handed out once."""
        pending, self.pending = self.pending, []
        return [u for u in pending if u not in asked]

    def _keep(self, rules: Protego, robots: str) -> None:
        self.pending += [u for u in rules.sitemaps if same_site(u, robots)]
