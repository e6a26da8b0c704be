"""The README's "Use" section, run as written against `newswatch demo --serve`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ".venv/bin/newswatch"


def use_commands() -> list[str]:
    """The lines of the first ``sh`` block under ``## Use``, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Use\n") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [" ".join(shlex.split(line, comments=True)) for line in block.group(1).splitlines()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    drop = ("NEWSWATCH_SMTP_URL", "NEWSWATCH_CONFIG")
    return {k: v for k, v in os.environ.items() if k not in drop}


@contextmanager
def demo_served(work: Path, env: dict[str, str]) -> Iterator[list[str]]:
    """`newswatch demo --serve` in ``work`` (any free ports), until it says it serves."""
    cmd = [sys.executable, "-m", "crawler", "demo", "--serve", "--port", "0"]
    child = subprocess.Popen(
        cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert child.stdout is not None
    lines: list[str] = []
    try:
        for line in child.stdout:
            lines.append(line)
            if "until Ctrl-C" in line:
                break
        else:
            pytest.fail("demo --serve ended early:\n" + "".join(lines))
        yield lines
    finally:
        child.send_signal(signal.SIGINT)
        rest, _ = child.communicate(timeout=60)
        assert child.returncode == 0, "".join(lines) + rest
        assert "Traceback" not in rest and "demo sites stopped" in rest


@contextmanager
def serving(cmd: list[str], work: Path, env: dict[str, str], port: int) -> Iterator[None]:
    child = subprocess.Popen(cmd, cwd=work, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(child, port)
        yield
    finally:
        child.terminate()
        child.communicate(timeout=30)  # and close its pipe


def wait_for_port(child: subprocess.Popen[str], port: int) -> None:
    """Poll the port until it accepts (or the child ends, which fails the test)."""
    while True:
        if child.poll() is not None:
            err = child.stderr.read() if child.stderr else ""
            pytest.fail(f"the server ended with {child.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:  # not listening yet: wait on the child a moment, then ask again
            with suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)


def test_the_use_section_starts_the_demo_and_names_its_config() -> None:
    commands = use_commands()
    assert commands[0] == f"{PROGRAM} demo --serve"
    assert commands[1] == "export NEWSWATCH_CONFIG=demo-output/newswatch.toml"
    assert all(c.startswith(f"{PROGRAM} ") for c in commands[2:])


@pytest.mark.crawl
def test_every_command_of_the_use_section_works_against_the_demo(tmp_path: Path) -> None:
    env = clean_env()
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    commands = use_commands()
    ran = []
    with demo_served(tmp_path, env):
        for line in commands[1:]:
            argv = shlex.split(line)
            if argv[0] == "export":
                name, value = argv[1].split("=", 1)
                env[name] = value
                continue
            cmd = [sys.executable, "-m", "crawler", *argv[1:]]
            if argv[1] == "serve":
                port = free_port()
                with serving([*cmd, "--port", str(port)], tmp_path, env, port):
                    url = f"http://127.0.0.1:{port}/"
                    with urllib.request.urlopen(url, timeout=30) as page:
                        assert "articles" in page.read().decode("utf-8")
                ran.append(argv[1])
                continue
            done = subprocess.run(
                cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, (line, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr, (line, done.stderr)
            ran.append(" ".join(argv[1:3]))
    assert len(ran) == len(commands) - 2
    assert (tmp_path / "articles.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "<svg" in (tmp_path / "report.html").read_text(encoding="utf-8")
