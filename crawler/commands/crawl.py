"""``scrapy crawl``, plus ``-a sources=A,B,C`` for the jobs of ``newswatch cluster run``.

A job of a cluster pass (``crawler/cluster.py``) may carry a shard of several sources
(``[cluster] sources_per_job``): each gets a crawler of the news spider of its own in this
one process, exactly as ``-a source=X`` gets one, and each records its counts in the
pass's run (``-s NEWSWATCH_RUN_ID=N``, ``crawler/extension.py``); an article two of them
list is fetched once. Every other ``scrapy crawl`` is Scrapy's own.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.extension import RUN_ID_SETTING


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        sources = opts.spargs.pop("sources", None)
        if sources is None or len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process is not None and self.settings is not None
        names = [name for name in sources.split(",") if name]
        if not names or not self.settings.getint(RUN_ID_SETTING):
            raise UsageError(
                "-a sources=A,B is for the jobs of `newswatch cluster run` (with -s"
                f" {RUN_ID_SETTING}=N); crawl one source with -a source=NAME",
                print_help=False,
            )
        claimed: set[str] = set()  # shared: an article two of them list is fetched once
        for name in names:
            crawler = self._create_crawler(args[0])
            self.crawler_process.crawl(crawler, source=name, claimed=claimed, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
