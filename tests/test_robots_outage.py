"""A site that is down is an ordinary event: its robots.txt costs one warning line naming
the URL and the cause, never a Python traceback (Scrapy logs two chained ones)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from conftest import run_newswatch

TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
maildir = "maildir"
[crawl]
download_delay = 0
autothrottle_start_delay = 0
timeout = 2
allow_private_targets = ["127.0.0.1"]
[[sources]]
name = "down"
feeds = ["{base}/feed.xml"]
"""


@pytest.fixture
def closed_port() -> Iterator[int]:
    """Bound, never listening: connections are refused, and nobody else takes the port."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog does) and never answers."""
    with closing(socket.create_server(("127.0.0.1", 0))) as sock:
        yield sock.getsockname()[1]


@pytest.mark.crawl
@pytest.mark.parametrize(
    ("server", "cause"),
    [("closed_port", "connection refused"), ("silent_port", "no answer in time")],
)
def test_robots_txt_of_a_site_that_is_down_is_one_line(
    tmp_path: Path, server: str, cause: str, request: pytest.FixtureRequest
) -> None:
    port = request.getfixturevalue(server)
    config = tmp_path / "nw.toml"
    config.write_text(TOML.format(base=f"http://127.0.0.1:{port}"), "utf-8")
    result = run_newswatch("run", "--no-send", config=config)
    assert result.code == 1, result.err  # the source failed as a whole
    assert "Traceback" not in result.err
    robots = f"http://127.0.0.1:{port}/robots.txt"
    (line,) = [line for line in result.err.splitlines() if robots in line]
    assert line.startswith("WARNING ") and f"cannot read robots.txt: {cause}" in line
    # robots.txt is asked once (not retried): the feed's three tries make the rest.
    assert "4 requests" in result.out
