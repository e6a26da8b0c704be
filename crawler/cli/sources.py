"""``newswatch sources``: the health of each configured source, and checking a new one."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from crawler.cli.passtable import errors_text, table
from crawler.discovery import DiscoveryRecord
from pipelines.config import Config, SourceConfig
from pipelines.errors import ExitCode
from pipelines.store import Store, open_config_store

_STATUS_COLUMNS = (
    "source",
    "state",
    "passes",
    "requests",
    "304",
    "bytes",
    "new",
    "dup",
    "relevant",
    "errors",
)


@click.group()
def sources() -> None:
    """Inspect the configured sources."""


@sources.command("status")
@click.option(
    "--passes",
    "n",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="How many of the latest passes to sum up.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source and line.")
@pass_state
@fail_cleanly
def status(state: State, n: int, as_json: bool) -> None:
    """Per source, over the last N passes: requests, 304s, bytes, articles, errors by kind,
    and whether it is failing ([health] failing_passes bad passes in a row). Exits 1 while
    a source is failing, for monitoring.

    \b
    Example:
        newswatch sources status
        newswatch sources status --passes 24 --json | jq 'select(.state == "failing")'
    """
    with open_config_store(state.config) as store:
        rows = source_status(store, state.config, n)
    failing = [r["source"] for r in rows if r["state"] == "failing"]
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
    else:
        # Failing sources first, so that they are seen before the list scrolls by.
        ordered = sorted(rows, key=lambda r: r["state"] != "failing")
        for line in table(_STATUS_COLUMNS, [_status_row(r) for r in ordered], left={0, 1, 9}):
            click.echo(line)
        if failing:
            click.echo(f"{len(failing)} source(s) FAILING: {', '.join(failing)}")
            click.echo(f"see why: newswatch sources check {failing[0]}")
    if failing:  # for monitoring: exit 1 while a source is failing
        sys.exit(ExitCode.FAILED)


def source_status(store: Store, config: Config, passes: int) -> list[dict[str, Any]]:
    """Sums over the latest ``passes`` runs, per source (configured ones first)."""
    runs = store.latest_run_sources(passes)
    health = store.source_health_rows()
    names = list(dict.fromkeys([s.name for s in config.sources] + sorted(health)))
    out = []
    for name in names:
        seen = [counts.get(name) for _, counts in runs]
        counts = [c for c in seen if c]
        errors: dict[str, int] = {}
        for c in counts:
            for kind, v in c.get("errors", {}).items():
                errors[kind] = errors.get(kind, 0) + int(v)
        h = health.get(name, {})
        out.append(
            {
                "source": name,
                "passes": len(counts),
                "last_run": next((r for (r, _), c in zip(runs, seen, strict=True) if c), None),
                **{k: sum(int(c.get(k, 0)) for c in counts) for k in _SUMMED},
                "errors": errors,
                "state": h.get("state", "ok" if counts else "never run"),
                "bad_passes": h.get("bad_passes", 0),
                "since": h.get("since"),
                "last_error": h.get("last_error"),
            }
        )
    return out


_SUMMED = ("requests", "not_modified", "bytes", "fetched", "new", "duplicates", "relevant")


def _status_row(r: dict[str, Any]) -> tuple[object, ...]:
    state = r["state"]
    if state == "failing":
        state = f"FAILING since {r['since']}"
    elif r["bad_passes"]:
        state += f" ({r['bad_passes']} bad pass(es) in a row)"
    return (
        r["source"],
        state,
        r["passes"],
        r["requests"],
        r["not_modified"],
        r["bytes"],
        r["new"],
        r["duplicates"],
        r["relevant"],
        errors_text(r["errors"]) or "-",
    )


@dataclass
class CheckResult:
    source: str
    pattern: str | None = None  # the source's article_pattern
    discovery: list[DiscoveryRecord] = field(default_factory=list)
    article_url: str | None = None
    article: dict[str, Any] | None = None
    article_errors: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return any(
            r.status == 200 and r.kind and not r.error and r.via != "robots" for r in self.discovery
        )

    @property
    def problems(self) -> list[str]:
        """What a person must fix, each naming its culprit; empty when the source works."""
        pages = [r for r in self.discovery if r.via != "robots"]
        found = [f"{r.via} {r.message or r.url + ': ' + str(r.error)}" for r in pages if r.error]
        if not self.parsed:
            return [*found, "nothing parsed: check the URLs in the config"]
        entries = sum(r.entries for r in pages if r.kind not in ("sitemapindex", "not modified"))
        if entries and not sum(r.matched for r in pages):
            if self.pattern is not None:
                found.append(
                    f"article_pattern {self.pattern!r} matched none of the {entries} links"
                    " and entries found: compare it with the article URLs of the site"
                )
            else:
                found.append(
                    f"none of the {entries} links and entries looks like an article URL:"
                    " set article_pattern"
                )
        return found


@sources.command("check")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_state
@fail_cleanly
def check(state: State, name: str | None, as_json: bool) -> None:
    """Fetch a source's feeds, sitemaps and start pages once, store nothing, and show what
    each gave and what one extracted article looks like. Exits 1 when a page could not be
    read or parsed, or when no article URL matched article_pattern.

    \b
    Example:
        newswatch sources check bladi_net
        newswatch sources check          # every enabled source
    """
    config = state.config
    chosen = [config.source(name)] if name else config.enabled_sources()
    results = check_sources(config, chosen, verbose=state.verbose)
    for result in results:
        if as_json:
            click.echo(json.dumps(_check_json(result), ensure_ascii=False))
        else:
            _print_check(result)
    if any(r.problems for r in results):
        sys.exit(ExitCode.FAILED)


def check_sources(
    config: Config, chosen: list[SourceConfig], *, verbose: bool = False
) -> list[CheckResult]:
    """One dry-run crawl per source (in this process: a command runs at most one)."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.passes import crawl_settings
    from crawler.spiders.news import NewsSpider

    settings = crawl_settings(config, verbose=verbose, dry_run=True)  # nothing is stored
    process = CrawlerProcess(settings)
    results = {s.name: CheckResult(s.name, s.article_pattern) for s in chosen}
    spiders: dict[str, NewsSpider] = {}
    for source in chosen:
        crawler = process.create_crawler(NewsSpider)
        crawler.signals.connect(
            _collector(results[source.name]), signal=signals.item_scraped, weak=False
        )
        crawler.signals.connect(
            _keeper(spiders, source.name), signal=signals.spider_opened, weak=False
        )
        process.crawl(crawler, source=source, check=True)
    if chosen:
        process.start()
    for name, spider in spiders.items():
        results[name].discovery = list(spider.ledger.records.values())
        results[name].article_errors = spider.article_errors
    return list(results.values())


def _keeper(into: dict[str, Any], name: str) -> Any:
    def opened(spider: Any) -> None:
        into[name] = spider

    return opened


def _collector(result: CheckResult) -> Any:
    def scraped(item: Any) -> None:
        from crawler.items import PageItem

        # A 404/410 comes as an item too (to be remembered as gone): no page to show.
        if isinstance(item, PageItem) and item.status < 400 and result.article is None:
            result.article_url = item.final_url
            result.article = _describe(item)

    return scraped


def _describe(item: Any) -> dict[str, Any]:
    from pipelines.clock import utcnow
    from pipelines.extract import extract_article
    from pipelines.models import PageHints

    h = item.hints
    hints = PageHints(
        feed_title=h.get("feed_title"),
        feed_published=h.get("feed_published"),
        lang=h.get("lang"),
        fetched_at=utcnow(),
        found_via=item.found_via,
    )
    article = extract_article(item.body, item.final_url, hints=hints, encoding=item.encoding)
    if article is None:
        return {"article": False}
    return {
        "article": True,
        "title": article.title,
        "published": article.published,
        "date_source": article.date_source,
        "lang": article.lang,
        "words": len(article.text.split()),
        "start": article.text[:300],
    }


def _check_json(result: CheckResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "parsed": result.parsed,
        "problems": result.problems,
        "discovery": [asdict(r) for r in result.discovery],
        "article_url": result.article_url,
        "article": result.article,
        "article_errors": result.article_errors,
    }


def _print_check(result: CheckResult) -> None:
    click.echo(f"source {result.source}")
    rows = []
    for r in result.discovery:
        if r.error:
            found = f"ERROR {r.error}"
        elif r.via == "robots":
            found = "-"
        else:
            unit = "links" if r.via == "section" else "entries"
            found = f"{r.entries} {unit}, {r.matched} article URL(s)"
        rows.append((r.via, r.url, r.status or "-", r.kind or "-", found))
    for line in table(("via", "url", "http", "kind", "found"), rows, left={0, 1, 3, 4}):
        click.echo("  " + line)
    a = result.article
    if a is None:
        why = f": {result.article_errors[0]}" if result.article_errors else ""
        click.echo(f"  no article fetched{why}")
    elif not a["article"]:
        click.echo(f"  {result.article_url}: fetched, but not an article page")
    else:
        click.echo(f"  article {result.article_url}")
        click.echo(f"    title: {a['title']}")
        click.echo(f"    date:  {a['published'] or '-'} ({a['date_source'] or 'no date'})")
        click.echo(f"    lang:  {a['lang'] or '-'}   words: {a['words']}")
        click.echo(f"    text:  {' '.join(a['start'].split())}")
    for problem in result.problems:
        click.echo(f"  PROBLEM: {problem}")
        click.echo(f"newswatch: ERROR {result.source}: {problem}", err=True)
