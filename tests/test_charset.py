"""A UTF-8 page served as a multi-byte East Asian charset is read as UTF-8, with one line."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_newswatch

from pipelines.extract import extract_article
from pipelines.extract.decode import decode_html

FIXTURES = Path(__file__).parent / "data" / "pages" / "fixtures"
FRENCH = (FIXTURES / "fr-article.html").read_text(encoding="utf-8")
WORDS = ["Israël", "côté", "témoigne", "œuvre", "jusqu’à présent"]
MULTI_BYTE = ["shift_jis", "euc-jp", "gb2312", "gbk", "gb18030", "big5", "euc-kr", "iso-2022-jp"]


@pytest.mark.parametrize("charset", MULTI_BYTE)
def test_utf8_declared_multi_byte_is_read_as_utf8(
    charset: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="pipelines.extract.decode"):
        article = extract_article(FRENCH.encode(), "https://example.org/a", encoding=charset)
    assert article is not None
    for word in WORDS:
        assert word in article.text
    assert "\ufffd" not in article.text
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("https://example.org/a: declared ")
    assert "UTF-8" in lines[0]


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("東京で会議が開かれ、市長は新しい計画を発表しました。", "shift_jis"),
        ("東京で会議が開かれ、市長は新しい計画を発表しました。", "euc-jp"),
        ("北京举行会议，市长宣布了新的计划。", "gbk"),
        ("臺北舉行會議，市長宣布了新的計畫。", "big5"),
        ("서울에서 회의가 열렸고 시장은 새 계획을 발표했습니다.", "euc-kr"),
    ],
)
def test_real_multi_byte_pages_keep_their_charset(text: str, charset: str) -> None:
    page = f"<html><body><p>{text}</p></body></html>"
    assert text in decode_html(page.encode(charset), charset)


def test_ascii_page_declared_multi_byte_is_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pipelines.extract.decode"):
        assert decode_html(b"<p>plain</p>", "shift_jis") == "<p>plain</p>"
    assert not caplog.records


class _Pages(BaseHTTPRequestHandler):
    pages: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:
        found = self.pages.get(self.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        ctype, body = found
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def lying_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>'
        f"<link>{base}/</link><item><title>Drones</title><link>{base}/drones.html</link>"
        "<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>"
    )
    _Pages.pages = {
        "/feed.xml": ("application/rss+xml; charset=utf-8", feed.encode()),
        # The page's own <meta charset="utf-8"> is right; the header lies.
        "/drones.html": ("text/html; charset=shift_jis", FRENCH.encode()),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
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
name = "lying"
lang = "fr"
feeds = ["{base}/feed.xml"]
"""


@pytest.mark.crawl
def test_a_page_served_as_shift_jis_is_stored_readable(tmp_path: Path, lying_server: str) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(CONFIG.format(base=lying_server), encoding="utf-8")
    result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 0, result.err
    assert f"{lying_server}/drones.html: declared " in result.err
    conn = sqlite3.connect(tmp_path / "newswatch.db")
    try:
        text, topics = conn.execute(
            "SELECT text, topics FROM articles WHERE url = ?", [f"{lying_server}/drones.html"]
        ).fetchone()
    finally:
        conn.close()
    for word in WORDS:
        assert word in text
    assert json.loads(topics), "the built-in topic matches the readable text"
