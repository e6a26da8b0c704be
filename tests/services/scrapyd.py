"""Real Scrapyd nodes for the tests and benches, from the ``scrapyd`` package.

Each node is a ``scrapyd`` process on 127.0.0.1 with a free port and a folder of its own
(``scrapyd.conf`` there: eggs, dbs and logs under it, no items, ``max_proc`` slots), in a
process group of its own, so that :meth:`ScrapydNode.kill` takes it down with its running
jobs, as a machine that dies would. It is ready when ``daemonstatus.json`` answers, waited
for with a deadline.

Where Scrapyd cannot start, the tests that need it are skipped with the reason; with
``NEWSWATCH_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "NEWSWATCH_REQUIRE_SERVICES"
START_DEADLINE_SECONDS = 30.0


class ServiceUnavailable(Exception):
    """Scrapyd could not be started here (the reason says why)."""


@dataclass
class ScrapydNode:
    url: str
    root: Path
    proc: subprocess.Popen[bytes]

    def daemonstatus(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.url}/daemonstatus.json", timeout=5) as resp:
            body = json.loads(resp.read())
        assert isinstance(body, dict)
        return body

    def log(self) -> str:
        return (self.root / "scrapyd.log").read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL to the node and its jobs (one process group): a node that dies."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        with suppress(ProcessLookupError):  # jobs it left behind (SIGTERM stops Scrapyd only)
            os.killpg(self.proc.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONF = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {root}/eggs
dbs_dir = {root}/dbs
logs_dir = {root}/logs
items_dir =
jobs_dir =
max_proc = {max_proc}
poll_interval = {poll_interval}
finished_to_keep = 1000
jobs_to_keep = 1000
username = {username}
password = {password}
"""


def start_scrapyd(
    root: Path,
    *,
    max_proc: int = 2,
    poll_interval: float = 0.2,
    login: tuple[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> ScrapydNode:
    """A Scrapyd node in ``root`` (created), ready; raises ServiceUnavailable."""
    root.mkdir(parents=True, exist_ok=True)
    user, password = login or ("", "")
    for attempt in range(3):  # a port taken between free_port() and the bind: another one
        port = free_port()
        (root / "scrapyd.conf").write_text(
            CONF.format(
                port=port,
                root=root,
                max_proc=max_proc,
                poll_interval=poll_interval,
                username=user,
                password=password,
            ),
            encoding="utf-8",
        )
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        full_env.update(env or {})
        with (root / "scrapyd.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "scrapyd", "--pidfile", ""],
                cwd=root,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the node and its jobs
            )
        node = ScrapydNode(f"http://127.0.0.1:{port}", root, proc)
        try:
            _wait_ready(node, login)
        except ServiceUnavailable:
            node.stop()
            if attempt == 2 or "Address already in use" not in node.log():
                raise
            continue
        return node
    raise AssertionError("unreachable")


def _wait_ready(node: ScrapydNode, login: tuple[str, str] | None) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    request = urllib.request.Request(f"{node.url}/daemonstatus.json")
    if login is not None:
        import base64

        token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    while True:
        if node.proc.poll() is not None:
            tail = node.log().strip().splitlines()[-3:]
            raise ServiceUnavailable(f"scrapyd exited ({node.proc.returncode}): {' | '.join(tail)}")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                if json.loads(resp.read()).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"scrapyd did not answer in {START_DEADLINE_SECONDS:g} s")
        time.sleep(0.05)  # polling a starting server, against the deadline above


@contextmanager
def scrapyd_nodes(root: Path, count: int, **options: object) -> Iterator[list[ScrapydNode]]:
    """``count`` nodes under ``root`` (node0, node1...), stopped at the end; raises
    ServiceUnavailable."""
    with ExitStack() as stack:
        nodes = []
        for i in range(count):
            node = start_scrapyd(root / f"node{i}", **options)  # type: ignore[arg-type]
            stack.callback(node.stop)
            nodes.append(node)
        yield nodes


def unavailable(reason: str) -> None:
    """Skip (or, under NEWSWATCH_REQUIRE_SERVICES=1, fail) a test that needs Scrapyd."""
    message = f"Scrapyd cannot start here: {reason}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
