"""``newswatch doctor``: can a pass run here, now? One line per check, ok or FAIL.

Every check is read-only towards the outside world: the SMTP check logs in and quits
without sending, and each source gets one HEAD request (a GET when HEAD is refused).
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.guard import TargetPolicy, refusal, source_domains
from pipelines.channels.smtp import SMTP_URL_ENV, SmtpTransport, parse_smtp_url
from pipelines.config import Config, SourceConfig, load_config
from pipelines.defaults import DOCTOR_TIMEOUT
from pipelines.errors import NewswatchError
from pipelines.store import MIGRATIONS, StoreError, probe_database


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def check_config(path: Path) -> tuple[Check, Config | None]:
    try:
        config = load_config(path)
    except NewswatchError as exc:
        return Check("config", False, str(exc)), None
    enabled = len(config.enabled_sources())
    detail = f"{path}: {enabled} source(s) enabled, {len(config.topics)} topic(s)"
    return Check("config", True, detail), config


def check_database(config: Config) -> Check:
    """Migrations applied, and one write transaction rolled back; changes nothing.

    Pending migrations are not a failure (the next pass or ``newswatch init`` applies
    them), but they are named: a doctor that migrated the file itself would hide them.
    """
    if config.store_url:
        from pipelines.store.postgres import display_name, probe_postgres

        name = display_name(config.store_url)
        try:
            applied = probe_postgres(config.store_url)
        except StoreError as exc:
            return Check("database", False, str(exc))
        return _migrations_check(name, applied)
    path = config.store_path
    if not path.exists():
        folder = next((p for p in path.parents if p.exists()), Path("."))
        if not os.access(folder, os.W_OK):
            return Check("database", False, f"{path}: does not exist and {folder} is not writable")
        return Check("database", True, f"{path}: not created yet; `newswatch init` creates it")
    try:
        applied = probe_database(path)
    except StoreError as exc:
        return Check("database", False, f"{path}: not a writable SQLite database: {exc}")
    return _migrations_check(str(path), applied)


def _migrations_check(name: str, applied: set[str]) -> Check:
    pending = [m for m, _ in MIGRATIONS if m not in applied]
    if pending:
        listed = f"{len(pending)} migration(s) pending ({', '.join(pending)})"
        later = "applied by the next pass or `newswatch init`"
        return Check("database", True, f"{name}: writable; {listed}, {later}")
    return Check("database", True, f"{name}: {len(MIGRATIONS)} migrations applied, writable")


def check_delivery(config: Config, environ: Mapping[str, str]) -> Check:
    url = environ.get(SMTP_URL_ENV, "").strip()
    if url:
        try:
            transport = SmtpTransport(parse_smtp_url(url))
            transport.check()
        except NewswatchError as exc:
            return Check("smtp", False, str(exc))
        return Check("smtp", True, f"{transport.describe()}: greeted and logged in, nothing sent")
    maildir = config.alerts.maildir
    if maildir is None:
        return Check("delivery", False, f"neither {SMTP_URL_ENV} nor [alerts] maildir is set")
    folder = maildir if maildir.exists() else maildir.parent
    if not os.access(folder, os.W_OK):
        return Check("maildir", False, f"{maildir}: not writable")
    return Check("maildir", True, f"{maildir}: writable ({SMTP_URL_ENV} not set)")


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only where a pass would go (``crawler/guard.py``)."""

    def __init__(self, policy: TargetPolicy, domains: tuple[str, ...]) -> None:
        self.policy, self.domains = policy, domains

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        refused = refusal(newurl, self.policy, self.domains)
        if refused is not None:
            raise _Refused(refused)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Refused(Exception):
    """A URL a pass would refuse: its message is the line to print."""


def check_source(
    source: SourceConfig,
    timeout: float,
    user_agent: str,
    policy: TargetPolicy | None = None,
) -> Check:
    """One HEAD (or GET) of the source's first URL, under the rule a pass applies to private
    addresses and ``allowed_domains`` (``policy``: from ``[crawl] allow_private_targets``)."""
    urls = [*source.feeds, *source.sitemaps, *source.start_urls]
    url = urls[0]
    name = f"source {source.name}"
    policy = policy if policy is not None else TargetPolicy()
    domains = source_domains(source)
    refused = refusal(url, policy, domains)
    if refused is not None:
        return Check(name, False, refused)
    opener = urllib.request.build_opener(_GuardedRedirects(policy, domains))
    status = None
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": user_agent})
        try:
            with opener.open(request, timeout=timeout) as response:
                status = response.status
            break
        except urllib.error.HTTPError as exc:
            status = exc.code
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some servers refuse HEAD only
            break
        except _Refused as exc:
            return Check(name, False, str(exc))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Check(name, False, f"{url}: {reason}")
        except http.client.HTTPException as exc:
            return Check(name, False, f"{url}: {_bad_response(exc)}")
    if status is not None and status < 400:
        return Check(name, True, f"{url}: HTTP {status}")
    return Check(name, False, f"{url}: HTTP {status}")


def _bad_response(exc: http.client.HTTPException) -> str:
    """One line for a server that did not answer in HTTP (its reply may hold a linefeed)."""
    detail = str(exc).strip()
    return f"not a valid HTTP response ({type(exc).__name__}{f': {detail!r}' if detail else ''})"


def run_checks(
    path: Path,
    environ: Mapping[str, str],
    *,
    timeout: float = DOCTOR_TIMEOUT,
    echo: Callable[[str], None] = print,
) -> bool:
    """Print one line per check as it completes; True when every check passed."""
    results = []
    for check in _checks(path, environ, timeout):
        echo(check.line())
        results.append(check.ok)
    return all(results)


def _checks(path: Path, environ: Mapping[str, str], timeout: float) -> Iterator[Check]:
    first, config = check_config(path)
    yield first
    if config is None:
        return
    yield check_database(config)
    yield check_delivery(config, environ)
    agent = config.crawl.user_agent or "newswatch (doctor)"
    policy = TargetPolicy.from_value(config.crawl.allow_private_targets)
    for source in config.enabled_sources():
        yield check_source(source, timeout, agent, policy)
