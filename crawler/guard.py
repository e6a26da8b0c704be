"""Downloader middleware: no request to a private address, none outside a source's domains.

A news site's feed or a redirect can point anywhere, including at the machine newswatch
runs on (``http://127.0.0.1:8080/admin``), the local network or a cloud metadata address
(``169.254.169.254``). Every request passes :class:`TargetGuard` early in the downloader
chain: article pages, feeds, sitemaps, section pages, the requests redirects produce
(Scrapy sends them through the chain again) and robots.txt (which Scrapy downloads through
the engine). Its host is resolved with the system resolver; when any of its addresses is
loopback, private, link-local, unique-local, multicast, unspecified or reserved and not
allowed by ``[crawl] allow_private_targets`` (``NEWSWATCH_ALLOW_PRIVATE_TARGETS``), the
request is refused with one line naming the URL, counted as ``refused_private``. A host
with one such address among public ones is refused too: a name that resolves both ways is
how DNS rebinding reaches inside.

A source with ``allowed_domains`` gets only those domains (and their subdomains) and the
hosts of its configured URLs, whatever links its feeds or redirects lead to (``offsite``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.threads import deferToThread

from crawler.stats import error_key

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(IgnoreRequest):
    """A request newswatch will not send; ``kind`` is its error counter name."""

    kind = "refused"


class PrivateTargetRefused(TargetRefused):
    kind = "refused_private"


class OffsiteTargetRefused(TargetRefused):
    kind = "offsite"


def is_private(ip: Address) -> bool:
    """Not a public unicast address: loopback, private, link-local, unique-local, shared
    (100.64/10), multicast, unspecified, reserved; an IPv4-mapped IPv6 address as its IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or ip.is_link_local
        or ip.is_loopback
    )


@dataclass(frozen=True)
class TargetPolicy:
    """Which private addresses may be reached: none, all, or those in ``allowed``."""

    allow_all: bool = False
    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_value(cls, value: Any) -> TargetPolicy:
        """From the config value or the Scrapy setting: a bool, a list of addresses and
        networks, or the same as one comma-separated string (``"127.0.0.1,10.0.0.0/8"``)."""
        if value is None or isinstance(value, bool):
            return cls(allow_all=bool(value))
        if isinstance(value, str):
            if value.strip().lower() in ("true", "1", "yes"):
                return cls(allow_all=True)
            if value.strip().lower() in ("", "false", "0", "no"):
                return cls()
            value = value.split(",")
        return cls(allowed=tuple(parse_networks(value)))

    def forbidden(self, ip: Address) -> bool:
        if self.allow_all or not is_private(ip):
            return False
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return not any(ip in net or (mapped is not None and mapped in net) for net in self.allowed)

    def as_setting(self) -> bool | str:
        """The Scrapy setting's value: a bool, or the allowed networks comma-separated."""
        return True if self.allow_all else ",".join(str(n) for n in self.allowed) or False


def parse_networks(values: Iterable[str]) -> list[Network]:
    """``["127.0.0.1", "10.0.0.0/8", "::1"]`` -> networks; ValueError names a bad one."""
    out: list[Network] = []
    for value in values:
        text = value.strip().strip("[]")
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return out


def resolve(host: str) -> list[Address]:
    """Every address the system resolver gives for ``host`` (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def refused_address(host: str, policy: TargetPolicy) -> Address | None:
    """The first forbidden address ``host`` resolves to, or None (also when it does not
    resolve: the download then fails as a DNS error). Blocking: for commands, not the crawl."""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError):
        return None
    return next((ip for ip in addresses if policy.forbidden(ip)), None)


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    for domain in domains:
        d = domain.lower().strip(".")
        if host == d or host.endswith("." + d):
            return True
    return False


def source_domains(source: Any) -> tuple[str, ...]:
    """A source's ``allowed_domains`` plus the hosts of its configured URLs; empty (any
    host) when the source sets no ``allowed_domains``."""
    declared = tuple(getattr(source, "allowed_domains", ()) or ())
    if not declared:
        return ()
    urls = [*source.feeds, *source.sitemaps, *source.start_urls]
    hosts = [h for h in (urlsplit(u).hostname for u in urls) if h]
    return (*declared, *hosts)


def refusal(url: str, policy: TargetPolicy, domains: Iterable[str] = ()) -> str | None:
    """Why ``url`` must not be requested, in one line naming it; None when it may be.
    Resolves the host in the calling thread: for commands (``newswatch doctor``)."""
    host = urlsplit(url).hostname
    if not host:
        return None
    if domains and not host_allowed(host, domains):
        return f"{url}: refused: {host} is outside the source's allowed_domains"
    ip = None if policy.allow_all else refused_address(host, policy)
    if ip is not None:
        return f"{url}: refused: private address {ip} (allow it with [crawl] allow_private_targets)"
    return None


class TargetGuard:
    """Refuses requests to forbidden addresses and, for a source with ``allowed_domains``,
    to other hosts. Enabled early in ``DOWNLOADER_MIDDLEWARES`` (``crawler/settings.py``)."""

    def __init__(self, crawler: Crawler, policy: TargetPolicy) -> None:
        self.crawler = crawler
        self.policy = policy
        self._verdicts: dict[str, Address | None] = {}  # host -> forbidden address or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TargetGuard:
        value = crawler.settings.get("NEWSWATCH_ALLOW_PRIVATE_TARGETS", False)
        return cls(crawler, TargetPolicy.from_value(value))

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            return
        domains = source_domains(getattr(self.crawler.spider, "source", None))
        if domains and not host_allowed(host, domains):
            self._refuse(
                request,
                OffsiteTargetRefused,
                f"{request.url}: refused: {host} is outside the source's allowed_domains",
            )
        if self.policy.allow_all:
            return
        if host not in self._verdicts:
            self._verdicts[host] = await self._verdict(host)
        ip = self._verdicts[host]
        if ip is not None:
            self._refuse(
                request,
                PrivateTargetRefused,
                f"{request.url}: refused: private address {ip}"
                " (allow it with [crawl] allow_private_targets)",
            )

    async def _verdict(self, host: str) -> Address | None:
        """The first forbidden address of ``host``: of every address the system resolver
        gives, and of the one the download will connect to. That one comes from Scrapy's
        DNS cache, which is filled here: a name cannot answer one address to this check
        and another to the connection (DNS rebinding)."""
        ip = await maybe_deferred_to_future(deferToThread(refused_address, host, self.policy))
        if ip is not None or _is_ip_literal(host):
            return ip
        from twisted.internet import reactor  # here: Scrapy installs the reactor first

        try:
            resolve: Any = reactor.resolve
            answer = await maybe_deferred_to_future(resolve(host))
            connect_to = ipaddress.ip_address(answer)
        except Exception:  # the download meets the same failure and names it
            return None
        return connect_to if self.policy.forbidden(connect_to) else None

    def _refuse(self, request: Request, error: type[TargetRefused], message: str) -> None:
        # The one line naming the URL; the request's errback counts it and stays quiet.
        redirected = request.meta.get("redirect_urls")
        if redirected:
            message += f", redirected from {redirected[0]}"
        log.warning("%s", message)
        if request.errback is None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(error_key(error.kind))  # robots.txt, a bare request
        raise error(message)
