"""Each way a page can fail has its own name in the counters and one line naming the URL:
a decompression bomb, a redirect loop, a page over DOWNLOAD_MAXSIZE, a redirect to a
non-HTTP URL or to the page itself, a binary body served as HTML, an overlong URL."""

from __future__ import annotations

import gzip
import json
import socketserver
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_newswatch
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

from crawler.errors import describe_kind, error_kind
from crawler.redirects import RedirectRefused

PARAGRAPH = (
    "The harbour council met on Tuesday evening to discuss the new ferry timetable, which"
    " residents say leaves the island without a connection for most of the afternoon. Several"
    " speakers asked the operator to restore the midday crossing before the summer season."
)
GOOD = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Ferry</title></head><body>"
    "<article><h1>Ferry timetable</h1>"
    + "".join(f"<p>{PARAGRAPH} ({i})</p>" for i in range(5))
    + "</article></body></html>"
).encode()
BOMB = gzip.compress(b"\0" * (11 * 1024 * 1024), compresslevel=9)  # > DOWNLOAD_MAXSIZE
BINARY = bytes((i * 7919 + 13) % 256 for i in range(50_000))
LONG_PATH = "/news/" + "x" * 100_000 + ".html"
ARTICLES = [
    "/good.html",
    "/bomb.html",
    "/loop-a.html",
    "/hops/1.html",
    "/big.html",
    "/file.html",
    "/self.html",
    "/binary.html",
    LONG_PATH,
]


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""
    asked: list[str] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        path = self.path
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>t{i}</title><link>{self.base}{p}</link>"
                "<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>"
                for i, p in enumerate(ARTICLES)
            )
            body = f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
            self._send(200, body.encode(), "application/rss+xml")
        elif path == "/good.html":
            self._send(200, GOOD, "text/html; charset=utf-8")
        elif path == "/bomb.html":
            self._send(200, BOMB, "text/html", {"Content-Encoding": "gzip"})
        elif path == "/loop-a.html":
            self._send(302, b"", "text/html", {"Location": "/loop-b.html"})
        elif path == "/loop-b.html":
            self._send(302, b"", "text/html", {"Location": "/loop-a.html"})
        elif path.startswith("/hops/"):
            n = int(path.split("/")[-1].split(".")[0])
            self._send(302, b"", "text/html", {"Location": f"/hops/{n + 1}.html"})
        elif path == "/big.html":
            self._stream()
        elif path == "/file.html":
            self._send(302, b"", "text/html", {"Location": "file:///etc/passwd"})
        elif path == "/self.html":
            self._send(301, b"", "text/html", {"Location": f"{self.base}/self.html"})
        elif path == "/binary.html":
            self._send(200, BINARY, "text/html")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": ctype, **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self) -> None:
        """A body with no Content-Length that goes on past DOWNLOAD_MAXSIZE (bounded)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"<p>" + b"a" * 65_536 + b"</p>"
        try:
            for _ in range(400):  # 26 MB at most
                self.wfile.write(chunk)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    assert isinstance(server, socketserver.BaseServer)
    _Hostile.base = f"http://127.0.0.1:{server.server_address[1]}"
    _Hostile.asked = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _Hostile.base
    finally:
        server.shutdown()
        server.server_close()


CONFIG = """\
[store]
path = "newswatch.db"

[alerts]
to = ["analyst@example.org"]
max_age_days = 0

[crawl]
download_delay = 0
autothrottle_start_delay = 0
allow_private_targets = ["127.0.0.1/32"]

[[sources]]
name = "hostile"
lang = "en"
feeds = ["{base}/feed.xml"]
"""


def last_errors(config: Path) -> dict[str, int]:
    conn = sqlite3.connect(config.parent / "newswatch.db")
    try:
        (sources,) = conn.execute("SELECT sources FROM runs ORDER BY id DESC").fetchone()
    finally:
        conn.close()
    errors: dict[str, int] = json.loads(sources)["hostile"]["errors"]
    return errors


def test_ignored_requests_are_named_by_their_cause() -> None:
    bomb = IgnoreRequest(
        "Ignored response <200 http://x/> because its body (10 B compressed, 20 B"
        " decompressed so far) exceeded DOWNLOAD_MAXSIZE (15 B) during decompression."
    )
    assert error_kind(Failure(bomb)) == "decompression_bomb"
    assert error_kind(Failure(IgnoreRequest("max redirections reached"))) == "redirect_loop"
    refused = RedirectRefused("redirect_unsafe", "redirect to a non-HTTP URL (file:///x)")
    assert error_kind(Failure(refused)) == "redirect_unsafe"
    for kind in ("decompression_bomb", "redirect_loop", "redirect_unsafe", "redirect_self"):
        assert describe_kind(kind) != kind


@pytest.mark.crawl
def test_each_failure_has_its_name_and_one_line(tmp_path: Path, hostile: str) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(CONFIG.format(base=hostile), encoding="utf-8")
    result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 0, result.err
    errors = last_errors(config)
    assert errors == {
        "decompression_bomb": 1,
        "redirect_loop": 2,
        "too_large": 1,
        "redirect_unsafe": 1,
        "redirect_self": 1,
        "url_too_long": 1,
    }, result.err
    err = result.err
    assert "Traceback" not in err
    for path in ("/bomb.html", "/loop-b.html", "/hops/6.html", "/big.html", "/file.html"):
        assert f"{hostile}{path}: article not fetched" in err, path
    assert f"{hostile}/self.html: article not fetched: the page redirects to itself" in err
    assert f"{hostile}/binary.html: not an HTML page" in err
    assert "parsed tree length" not in err
    long_link = len(f"{hostile}{LONG_PATH}")
    assert f"hostile: a link of {long_link} characters skipped (longer than 2000)" in err
    assert "x" * 3000 not in err
    assert not any(len(p) > 2000 for p in _Hostile.asked)
    # The page that redirects to itself is remembered: the next pass does not ask again.
    _Hostile.asked.clear()
    again = run_newswatch("run", "--no-send", config=config)
    assert again.code == 0, again.err
    assert "/self.html" not in _Hostile.asked
    assert "/good.html" not in _Hostile.asked
