"""Serve the bundled sample sites (or copies of them) on 127.0.0.1 for crawl tests.

The real sources cannot be reached from the test machines, so newswatch is tested against
static copies of sites in the shape of the real ones. A request maps to a file as
``samples/sitefiles.py`` says (``{{base}}`` in a file becomes ``http://127.0.0.1:PORT``); a
folder asked for without its trailing slash answers 301 to the slashed URL (WordPress does).
Every site gets its own port, bound with port 0 and read back, so there is no port race.

Usage::

    with serve_sites(SITES_DIR, ["bladi", "trends"]) as servers:
        servers["bladi"]               # 'http://127.0.0.1:41234'
        servers.requests("bladi")      # [RequestRecord('GET', '/robots.txt', 200, 97, ...), ...]

Every file is served with an ``ETag`` and a ``Last-Modified``, and a conditional GET that
matches is answered ``304``. Tests that serve a copy of a site can add files while it is
served (``servers.write``), make a path answer ``429``/``503`` with ``Retry-After`` a few
times (``fail_next``), compress text for clients that accept gzip (``set_gzip``), slow a
site down (``set_delay``) or take it down (``take_down`` / ``bring_up``).

or, for a child process: ``python -m samples.serve samples/sites bladi trends``.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, cast
from urllib.parse import quote, unquote, urlsplit

from samples.sitefiles import (
    PLACEHOLDER,
    content_type,
    file_for_target,
    is_text,
    not_modified,
)

SAMPLES_DIR = Path(__file__).resolve().parent
SITES_DIR = SAMPLES_DIR / "sites"  # the demo's sites; samples/manifest.py names every set

_NOT_FOUND = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>Not Found</h1></body></html>\n"
)


class RequestRecord(NamedTuple):
    """One answered request, as a test wants to count it."""

    method: str
    target: str  # path + query, as the client sent it
    status: int
    bytes_sent: int  # body bytes the response carried (0 for HEAD and 304)
    user_agent: str = ""  # the User-Agent header the client sent


@dataclass
class _Site:
    """Per-site state, shared by the handler threads of that site's server."""

    name: str
    folder: Path
    port: int = 0
    delay: float = 0.0
    gzip: bool = False  # compress text answers for clients that accept gzip
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    log: list[RequestRecord] = field(default_factory=list)
    in_flight: int = 0  # requests being answered now
    peak_in_flight: int = 0  # the most answered at once since the log was cleared
    server: _SiteHTTPServer | None = None
    placeholder: socket.socket | None = None  # keeps the port while the site is down

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _SiteHTTPServer(ThreadingHTTPServer):
    """A server that knows its site; client hang-ups are routine here, not tracebacks."""

    daemon_threads = True
    # The listen backlog of a real site's server (nginx's default is 511), not socketserver's
    # 5: with 5, eight connections opened at once (a crawl resuming) overflow it, and the
    # kernel drops a connection attempt that the client only repeats a second later.
    request_queue_size = 128

    def __init__(self, port: int, site: _Site, owner: SiteServers) -> None:
        self.site = site
        self.owner = owner
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet: a crawler that times out or a test that stops mid-response is expected."""


class _Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the site's folder.

    It speaks HTTP/1.0 (the base class default): every connection closes after one answer,
    so a kept-alive connection can never outlive ``take_down`` or slip past the request log.
    """

    server_version = "newswatch-localserver"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """No access log: tests read the request log instead of stderr."""

    def _answer(self, send_body: bool) -> None:
        server = cast(_SiteHTTPServer, self.server)
        site = server.site
        server.owner.wait(site)
        status, headers, body = self._response(site)
        sent = body if send_body else b""
        agent = self.headers.get("User-Agent", "")
        server.owner.record(site, RequestRecord(self.command, self.path, status, len(sent), agent))
        # The record is written before the response so that a client which has read the
        # response always finds its request in the log: exact counts need no waiting.
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(sent)

    def _response(self, site: _Site) -> tuple[int, dict[str, str], bytes]:
        failure = cast(_SiteHTTPServer, self.server).owner.take_failure(site, self.path)
        if failure is not None:
            status, headers = failure
            body = f"{status} (a failure the test asked for)\n".encode()
            return status, headers | {"Content-Length": str(len(body))}, body
        path = file_for_target(site.folder, self.path)
        if path is None:
            return self._missing(site)
        body = path.read_bytes()
        ctype = content_type(path.name, body)
        if is_text(ctype):
            body = body.replace(PLACEHOLDER, site.base_url.encode("ascii"))
        mtime = path.stat().st_mtime
        etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
        headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
        conditions = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if not_modified(*conditions, etag, mtime):
            return 304, headers, b""
        if site.gzip and is_text(ctype) and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        headers |= {"Content-Type": ctype, "Content-Length": str(len(body))}
        return 200, headers, body

    def _missing(self, site: _Site) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(self.path)
        folder = site.folder / unquote(parts.path).lstrip("/")
        if parts.path not in ("", "/") and not parts.path.endswith("/") and folder.is_dir():
            location = site.base_url + quote(unquote(parts.path)) + "/"
            location += f"?{parts.query}" if parts.query else ""
            return 301, {"Location": location, "Content-Length": "0"}, b""
        headers = {"Content-Type": "text/html; charset=utf-8"}
        return 404, headers | {"Content-Length": str(len(_NOT_FOUND))}, _NOT_FOUND


class SiteServers(Mapping[str, str]):
    """Site name -> base URL of a running server, plus controls and request logs for tests."""

    def __init__(
        self,
        root: Path,
        names: Iterable[str],
        *,
        delay: float = 0.0,
        on_request: Callable[[str, RequestRecord], None] | None = None,
    ) -> None:
        self._sites = {name: _Site(name, Path(root) / name, delay=delay) for name in names}
        for site in self._sites.values():
            if not site.folder.is_dir():
                raise FileNotFoundError(f"site folder not found: {site.folder}")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._on_request = on_request

    def __getitem__(self, name: str) -> str:
        site = self._sites[name]
        if not site.port:
            raise RuntimeError(f"site {name!r} has not been started")
        return site.base_url

    def __iter__(self) -> Iterator[str]:
        return iter(self._sites)

    def __len__(self) -> int:
        return len(self._sites)

    def __enter__(self) -> SiteServers:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> SiteServers:
        """Bind every site (port 0 the first time) and serve each in a daemon thread."""
        self._stopping.clear()
        for site in self._sites.values():
            if site.server is None and site.placeholder is None:
                self._listen(site)
        return self

    def stop(self) -> None:
        """Close every port; delayed answers still pending are cut short."""
        self._stopping.set()
        for site in self._sites.values():
            self._close(site)
            if site.placeholder is not None:
                site.placeholder.close()
                site.placeholder = None

    def requests(self, name: str) -> list[RequestRecord]:
        """A copy of the site's request log, oldest first."""
        with self._lock:
            return list(self._sites[name].log)

    def clear_requests(self, name: str | None = None) -> None:
        """Forget the logged requests of one site, or of all sites."""
        with self._lock:
            for site in self._sites.values():
                if name in (None, site.name):
                    site.log.clear()
                    site.peak_in_flight = site.in_flight

    def set_delay(self, name: str, seconds: float) -> None:
        """Make a site slow: every answer waits ``seconds`` first (0 makes it fast again)."""
        self._sites[name].delay = seconds

    def fail_next(
        self,
        name: str,
        target: str,
        status: int = 429,
        *,
        retry_after: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests for ``target`` (path + query) with ``status``.

        With ``retry_after`` the answer carries a ``Retry-After`` header (seconds or a date),
        as a rate-limiting site or one in maintenance sends it.
        """
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        with self._lock:
            queue = self._sites[name].failures.setdefault(target, [])
            queue.extend([(status, headers)] * times)

    def take_failure(self, site: _Site, target: str) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            queue = site.failures.get(target)
            return queue.pop(0) if queue else None

    def set_gzip(self, name: str, on: bool = True) -> None:
        """Send text files with ``Content-Encoding: gzip`` to clients that accept it."""
        self._sites[name].gzip = on

    def write(self, name: str, path: str, content: str | bytes) -> Path:
        """Add or replace a file of a served site (a copy, never the bundled sites)."""
        site = self._sites[name]
        if site.folder.resolve().is_relative_to(SAMPLES_DIR):
            raise ValueError(f"{site.folder}: serve a copy of the bundled sites to edit them")
        file = (site.folder / path.lstrip("/")).resolve()
        if not file.is_relative_to(site.folder.resolve()):
            raise ValueError(f"{path}: outside the site folder")
        file.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        file.write_bytes(data)
        return file

    def take_down(self, name: str) -> None:
        """Make a site unreachable: connections are refused, but the port stays reserved."""
        site = self._sites[name]
        if site.server is None:
            return
        self._close(site)
        # A bound socket that does not listen refuses connections and keeps other programs
        # (binding port 0) off the port, so bring_up can come back on the same base URL.
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.bind(("127.0.0.1", site.port))
        site.placeholder = placeholder

    def bring_up(self, name: str) -> None:
        """Serve a site taken down again, on the same port."""
        site = self._sites[name]
        if site.placeholder is not None:
            site.placeholder.close()
            site.placeholder = None
            self._listen(site)

    def wait(self, site: _Site) -> None:
        """Sleep for a slow site (waking early when the servers stop), counted in flight."""
        with self._lock:
            site.in_flight += 1
            site.peak_in_flight = max(site.peak_in_flight, site.in_flight)
        try:
            if site.delay > 0:
                self._stopping.wait(site.delay)
        finally:
            with self._lock:
                site.in_flight -= 1

    def peak_in_flight(self, name: str) -> int:
        """The most requests of one site answered at the same time (a slow site's delay
        included), since the servers started or its log was cleared."""
        with self._lock:
            return self._sites[name].peak_in_flight

    def record(self, site: _Site, entry: RequestRecord) -> None:
        with self._lock:
            site.log.append(entry)
            if self._on_request is not None:
                self._on_request(site.name, entry)

    def _listen(self, site: _Site) -> None:
        server = _SiteHTTPServer(site.port, site, self)
        site.port = server.server_address[1]
        site.server = server
        # The socket listens from here on: a request sent now waits in the backlog until the
        # thread below accepts it, so callers never need to sleep before the first request.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"localserver-{site.name}",
            daemon=True,
        )
        thread.start()

    @staticmethod
    def _close(site: _Site) -> None:
        if site.server is not None:
            site.server.shutdown()
            site.server.server_close()
            site.server = None


@contextmanager
def serve_sites(
    root: Path,
    names: Iterable[str],
    *,
    delay: float = 0.0,
    on_request: Callable[[str, RequestRecord], None] | None = None,
) -> Iterator[SiteServers]:
    """Serve the named sites of ``root`` for the duration of a ``with`` block."""
    servers = SiteServers(root, names, delay=delay, on_request=on_request)
    with servers:
        yield servers
