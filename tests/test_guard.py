"""Unsafe targets and unbounded headers: what a hostile site may not make newswatch do.

A redirect or a feed link to a private address (127.0.0.2, [::1], the local network) is
refused before any byte is sent, unless ``[crawl] allow_private_targets`` allows it; the tests
allow exactly 127.0.0.1, the address they serve on. A source with ``allowed_domains`` gets
no page of another host. A server sending headers forever is cut off at the header bound.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_newswatch

from crawler.doctor import check_source
from crawler.guard import TargetPolicy, host_allowed, refusal, resolve, source_domains
from pipelines.config import SourceConfig
from pipelines.config.sections import parse_crawl
from pipelines.errors import ConfigError
from samples.localserver import SITES_DIR

ARTICLE = "maroc-commande-deuxieme-batterie-barak-mx,104672.html"


# -- a small server on any loopback address ----------------------------------------------
@dataclass
class Site:
    host: str
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    base: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        site = self.server.site
        site.seen.append(self.path)
        status, headers, content = site.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value.replace("{base}", site.base))
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site) -> None:
        super().__init__((site.host, 0), _Handler)
        self.site = site


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    server = _Server(site)
    site.base = f"http://{site.host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def sitemap(base: str, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def article_page(base: str) -> bytes:
    html = (SITES_DIR / "bladi" / ARTICLE).read_text(encoding="utf-8")
    return html.replace("{{base}}", base).encode("utf-8")


HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}


def write_config(tmp_path: Path, sources: str, allow: str = '["127.0.0.1"]') -> Path:
    path = tmp_path / "nw.toml"
    path.write_text(
        '[store]\npath = "nw.db"\n'
        '[alerts]\nto = ["analyst@example.org"]\nmaildir = "maildir"\nmax_age_days = 0\n'
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\ntimeout = 10\n"
        f"obey_robots = false\nallow_private_targets = {allow}\n" + sources,
        encoding="utf-8",
    )
    return path


def stored_urls(tmp_path: Path) -> set[str]:
    conn = sqlite3.connect(tmp_path / "nw.db")
    return {url for (url,) in conn.execute("SELECT url FROM articles WHERE url LIKE 'http%'")}


def source_errors(tmp_path: Path, name: str) -> dict[str, int]:
    conn = sqlite3.connect(tmp_path / "nw.db")
    (sources,) = conn.execute("SELECT sources FROM runs").fetchone()
    errors: dict[str, int] = json.loads(sources)[name]["errors"]
    return errors


def lines_naming(text: str, url: str) -> list[str]:
    return [line for line in text.splitlines() if url in line]


# -- the rule --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.2",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00::1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::ffff:127.0.0.2",
    ],
)
def test_private_addresses_are_forbidden_unless_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert TargetPolicy().forbidden(ip)
    assert TargetPolicy.from_value(["127.0.0.1"]).forbidden(ip)
    assert not TargetPolicy.from_value(True).forbidden(ip)
    assert not TargetPolicy.from_value([address]).forbidden(ip)


def test_public_addresses_and_the_allowed_network_pass() -> None:
    policy = TargetPolicy.from_value("127.0.0.1,10.0.0.0/8")  # the Scrapy setting's form
    for address in ("93.184.216.34", "2606:2800:220:1::1", "127.0.0.1", "10.9.8.7"):
        assert not policy.forbidden(ipaddress.ip_address(address))
    assert TargetPolicy.from_value(policy.as_setting()) == policy
    assert TargetPolicy.from_value("false") == TargetPolicy() == TargetPolicy.from_value(False)


def test_localhost_is_refused_by_default() -> None:
    assert refusal("http://localhost:8080/admin", TargetPolicy()) is not None
    line = refusal("http://127.0.0.2:8080/x", TargetPolicy.from_value(["127.0.0.1"]))
    assert line == (
        "http://127.0.0.2:8080/x: refused: private address 127.0.0.2"
        " (allow it with [crawl] allow_private_targets)"
    )


def test_the_config_key_is_checked_when_loaded() -> None:
    assert parse_crawl({}, "nw.toml").allow_private_targets is False
    assert parse_crawl({"allow_private_targets": True}, "nw.toml").allow_private_targets is True
    cfg = parse_crawl({"allow_private_targets": ["127.0.0.1/32", "::1"]}, "nw.toml")
    assert cfg.allow_private_targets == ("127.0.0.1/32", "::1")
    with pytest.raises(ConfigError, match=r"crawl\.allow_private_targets\[0\].*'localhost'"):
        parse_crawl({"allow_private_targets": ["localhost"]}, "nw.toml")
    with pytest.raises(ConfigError, match=r"crawl\.allow_private_targets"):
        parse_crawl({"allow_private_targets": "yes"}, "nw.toml")


def test_allowed_domains_cover_subdomains_and_the_configured_hosts() -> None:
    source = SourceConfig(
        name="s", feeds=("https://feeds.example.org/rss",), allowed_domains=("example.com",)
    )
    domains = source_domains(source)
    assert host_allowed("www.example.com", domains)
    assert host_allowed("feeds.example.org", domains)
    assert not host_allowed("example.org", domains)
    assert not host_allowed("badexample.com", domains)
    assert source_domains(SourceConfig(name="t", feeds=("https://a.example/rss",))) == ()


# -- in a crawl ------------------------------------------------------------------------------
@contextmanager
def redirecting_site() -> Iterator[tuple[Site, Site]]:
    """A site on 127.0.0.1 whose articles 302 to 127.0.0.2 and to [::1], beside a good one;
    127.0.0.2 serves a page too, so that a request there would be answered and stored."""
    with serve(Site("127.0.0.2")) as inner, serve(Site("127.0.0.1")) as site:
        inner.routes["/secret,3.html"] = (200, HTML, article_page(inner.base))
        site.routes["/sitemap.xml"] = (
            200,
            XML,
            sitemap(site.base, ["/good,1.html", "/moved,2.html", "/v6,4.html"]),
        )
        site.routes["/good,1.html"] = (200, HTML, article_page(site.base))
        site.routes["/moved,2.html"] = (302, {"Location": inner.base + "/secret,3.html"}, b"")
        site.routes["/v6,4.html"] = (302, {"Location": "http://[::1]:9/secret,5.html"}, b"")
        yield site, inner


@pytest.mark.crawl
@pytest.mark.parametrize("obey_robots", [False, True])  # Scrapy's robots.txt request too
def test_a_redirect_to_another_loopback_address_is_refused(
    tmp_path: Path, obey_robots: bool
) -> None:
    with redirecting_site() as (site, inner):
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "site"\nsitemaps = ["{site.base}/sitemap.xml"]\n'
            "article_pattern = ',\\d+\\.html$'\n",
        )
        if obey_robots:
            text = config.read_text("utf-8").replace("obey_robots = false", "obey_robots = true")
            config.write_text(text, "utf-8")
        result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 0, result.err
    assert inner.seen == []  # not one request reached 127.0.0.2
    assert stored_urls(tmp_path) == {f"{site.base}/good,1.html"}
    for refused in (f"{inner.base}/secret,3.html", "http://[::1]:9/secret,5.html"):
        (line,) = lines_naming(result.err, refused)
        assert "refused: private address" in line
    assert source_errors(tmp_path, "site") == {"refused_private": 2}
    assert "Traceback" not in result.err


@pytest.mark.crawl
def test_a_host_name_is_judged_by_every_address_it_resolves_to(tmp_path: Path) -> None:
    """``localhost`` is fetched only where it resolves to 127.0.0.1 alone (not also ::1)."""
    only_allowed = {str(ip) for ip in resolve("localhost")} == {"127.0.0.1"}
    with serve(Site("127.0.0.1")) as site:
        named = "http://localhost:" + site.base.rsplit(":", 1)[1]
        site.routes["/sitemap.xml"] = (200, XML, sitemap(named, ["/good,1.html"]))
        site.routes["/good,1.html"] = (200, HTML, article_page(named))
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "site"\nsitemaps = ["{site.base}/sitemap.xml"]\n'
            "article_pattern = ',\\d+\\.html$'\n",
        )
        result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 0, result.err
    assert ("/good,1.html" in site.seen) is only_allowed
    assert stored_urls(tmp_path) == ({f"{named}/good,1.html"} if only_allowed else set())
    refused = lines_naming(result.err, f"{named}/good,1.html")
    assert len(refused) == (0 if only_allowed else 1)


@pytest.mark.crawl
def test_a_feed_link_to_another_host_is_refused_with_allowed_domains(tmp_path: Path) -> None:
    with serve(Site("127.0.0.2")) as other, serve(Site("127.0.0.1")) as site:
        other.routes["/elsewhere,2.html"] = (200, HTML, article_page(other.base))
        site.routes["/sitemap.xml"] = (
            200,
            XML,
            sitemap(site.base, ["/good,1.html"])[:-10]
            + f"<url><loc>{other.base}/elsewhere,2.html</loc></url></urlset>".encode(),
        )
        site.routes["/good,1.html"] = (200, HTML, article_page(site.base))
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "site"\nsitemaps = ["{site.base}/sitemap.xml"]\n'
            "article_pattern = ',\\d+\\.html$'\nallowed_domains = [\"example.org\"]\n",
            allow='["127.0.0.0/8"]',  # not refused as private: only the domain rule applies
        )
        result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 0, result.err
    assert other.seen == []
    assert stored_urls(tmp_path) == {f"{site.base}/good,1.html"}
    (line,) = lines_naming(result.err, f"{other.base}/elsewhere,2.html")
    assert "outside the source's allowed_domains" in line
    assert source_errors(tmp_path, "site") == {"offsite": 1}


def test_doctor_refuses_a_redirect_to_a_private_address() -> None:
    with redirecting_site() as (site, inner):
        site.routes["/feed"] = (302, {"Location": inner.base + "/secret,3.html"}, b"")
        source = SourceConfig(name="site", feeds=(site.base + "/feed",))
        check = check_source(source, 5, "test", TargetPolicy.from_value(["127.0.0.1"]))
        allowed = check_source(source, 5, "test", TargetPolicy.from_value(True))
    assert not check.ok
    assert check.detail.startswith(f"{inner.base}/secret,3.html: refused: private address")
    assert allowed.ok
    assert inner.seen == ["/secret,3.html"]  # only when allowed


# -- headers forever -------------------------------------------------------------------------
@dataclass
class HeaderFlood:
    base: str = ""
    sent: list[int] = field(default_factory=list)  # bytes sent on each connection
    limit: int = 20 * 1024 * 1024


@contextmanager
def header_flood() -> Iterator[HeaderFlood]:
    """A raw server on 127.0.0.1 answering every request with header lines forever (up to
    ``limit`` bytes a connection, or until the client goes away)."""
    flood = HeaderFlood()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    flood.base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop = threading.Event()
    line = b"X-A: " + b"a" * 1000 + b"\r\n"

    def answer(conn: socket.socket) -> None:
        sent = 0
        with conn:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while sent < flood.limit and not stop.is_set():
                    conn.sendall(line * 16)
                    sent += len(line) * 16
            except OSError:
                pass  # the client went away
        flood.sent.append(sent)

    def serve_flood() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve_flood, daemon=True)
    thread.start()
    try:
        yield flood
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


@pytest.mark.crawl
def test_a_server_sending_headers_forever_is_cut_off(tmp_path: Path) -> None:
    with header_flood() as flood, serve(Site("127.0.0.1")) as site:
        site.routes["/sitemap.xml"] = (200, XML, sitemap(site.base, ["/good,1.html"]))
        site.routes["/good,1.html"] = (200, HTML, article_page(site.base))
        pattern = "article_pattern = ',\\d+\\.html$'\n"
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "site"\nsitemaps = ["{site.base}/sitemap.xml"]\n{pattern}'
            f'[[sources]]\nname = "flood"\nfeeds = ["{flood.base}/feed.xml"]\n{pattern}',
        )
        result = run_newswatch("run", "--no-send", config=config)
    assert flood.sent, "the flood server was never asked"
    assert max(flood.sent) < 4 * 1024 * 1024  # cut off early, every time
    assert stored_urls(tmp_path) == {f"{site.base}/good,1.html"}
    (line,) = lines_naming(result.err, f"{flood.base}/feed.xml")
    assert "headers_too_large" in line
    # the feed and robots.txt (read for its Sitemap: lines), each asked once: no retry
    assert source_errors(tmp_path, "flood") == {"headers_too_large": 2}
    assert len(flood.sent) == 2
    assert "Traceback" not in result.err
