"""What `newswatch run` writes: under cron a few lines, on a terminal a live table."""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_newswatch

from samples.demo import DEMO_SITES
from samples.localserver import SiteServers


def closed_port() -> int:
    """A port nothing listens on (bound, read back, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.crawl
def test_a_cron_run_with_an_unreachable_source_writes_at_most_3_lines_to_stderr(
    config_path: Path, servers: SiteServers
) -> None:
    port = closed_port()
    with config_path.open("a", encoding="utf-8") as f:
        f.write(
            f'\n[[sources]]\nname = "down"\nlang = "fr"\n'
            f'feeds = ["http://127.0.0.1:{port}/feed.xml"]\n'
            f'start_urls = ["http://127.0.0.1:{port}/section/"]\n'
        )
    result = run_newswatch("run", config=config_path)  # pipes: not a terminal
    assert result.code == 1, result.err
    err = result.err.splitlines()
    assert 1 <= len(err) <= 3, result.err
    assert "Traceback" not in result.err
    assert any(line.startswith("newswatch: ERROR down: ") and "FAILED" in line for line in err)
    out = result.out.splitlines()
    assert out[0].startswith("down: ") and "FAILED (refused" in out[0]
    assert out[1].startswith("run 1: 4 source(s), ") and out[1].endswith("down FAILED (refused 2)")
    verbose = run_newswatch("--verbose", "run", "--no-send", config=config_path)
    assert len(verbose.err.splitlines()) > len(err)  # the detail is there when asked for


@pytest.mark.crawl
def test_on_a_terminal_a_live_table_then_the_new_relevant_titles(
    config_path: Path, servers: SiteServers
) -> None:
    main_fd, child_fd = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSWATCH_SMTP_URL",)}
    with subprocess.Popen(
        [sys.executable, "-m", "crawler", "--config", str(config_path), "run"],
        stdout=child_fd,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as child:
        os.close(child_fd)
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=120) == 0
    os.close(main_fd)
    raw = b"".join(chunks).decode("utf-8")
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)  # colours, cursor moves
    assert "newswatch run" in screen and ("crawling" in screen or "done" in screen)
    lines = [x.strip() for x in screen.replace("\r", "\n").splitlines() if x.strip()]
    table = lines.index(next(x for x in lines if x.startswith("source  requests")))
    assert sorted(x.split()[0] for x in lines[table + 1 : table + 4]) == sorted(DEMO_SITES)
    titles = lines.index(next(x for x in lines if x.endswith("new relevant article(s):")))
    assert titles > table
    assert "[bladi/fr] Le Maroc commande une deuxième batterie" in "\n".join(lines[titles:])
