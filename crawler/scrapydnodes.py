"""Scrapyd nodes for ``newswatch cluster run`` (``crawler/cluster.py``): each node's HTTP
JSON API, the project's egg built from this checkout and deployed where it is missing, and
the nodes of ``[cluster] scrapyd`` that answer at the start of a pass.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.config.cluster import SCRAPYD_PASSWORD_ENV, SCRAPYD_USERNAME_ENV
from pipelines.errors import ConfigError, NewswatchError

SPIDER = "news"
HTTP_TIMEOUT = 30.0  # seconds for one Scrapyd API call
CHECKOUT = Path(__file__).resolve().parent.parent  # holds scrapy.cfg and pyproject.toml
Event = Callable[[str], None]


class ClusterError(NewswatchError):
    """A node or the deployment failed; the message names the node."""


class NodeDown(ClusterError):
    """The node does not answer (refused, no answer in time, no such host)."""


class Node:
    """One Scrapyd node, over its HTTP JSON API."""

    def __init__(self, url: str, project: str, auth: tuple[str, str] | None) -> None:
        self.url = url.rstrip("/")
        self.project = project
        self.auth = auth
        self.alive = True
        self.version: str | None = None  # the egg version its jobs run
        self.batch = 2  # jobs handed at once while it has none waiting

    def call(self, endpoint: str, data: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """GET (no ``data``) or POST ``endpoint``.json; the answer when its status is ok."""
        import requests

        where = f"{self.url}/{endpoint}.json"
        try:
            if data is None:
                resp = requests.get(where, params=kw, auth=self.auth, timeout=HTTP_TIMEOUT)
            else:
                resp = requests.post(where, data=data, auth=self.auth, timeout=HTTP_TIMEOUT, **kw)
        except requests.Timeout:
            raise NodeDown(f"Scrapyd node {self.url}: no answer in {HTTP_TIMEOUT:g} s") from None
        except requests.RequestException as exc:
            raise NodeDown(f"Scrapyd node {self.url}: unreachable ({_reason(exc)})") from None
        if resp.status_code == 401:
            why = f"Scrapyd node {self.url} refused the login (HTTP 401): set"
            why += (
                f" {SCRAPYD_USERNAME_ENV} and {SCRAPYD_PASSWORD_ENV} to its username and password"
            )
            raise ConfigError("environment", SCRAPYD_USERNAME_ENV, why)
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ClusterError(
                f"{self.url}: not a Scrapyd node ({endpoint}.json answered HTTP"
                f" {resp.status_code}, not Scrapyd's JSON)"
            )
        if body.get("status") != "ok":
            message = " ".join(str(body.get("message", body)).split())[-300:]
            raise ClusterError(f"Scrapyd node {self.url}: {endpoint}.json: {message}")
        return body


_REASONS = {"refused": "connection refused", "name or service not known": "no such host",
            "no route": "no route to host", "reset by peer": "connection reset"}  # fmt: skip


def _reason(exc: Exception) -> str:
    found = [reason for needle, reason in _REASONS.items() if needle in str(exc).lower()]
    return found[0] if found else type(exc).__name__


def scrapyd_auth(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    env = os.environ if environ is None else environ
    user = env.get(SCRAPYD_USERNAME_ENV)
    return (user, env.get(SCRAPYD_PASSWORD_ENV, "")) if user else None


def source_digest(root: Path = CHECKOUT) -> str:
    """A digest of what goes into the egg: the packages' files and the project metadata."""
    h = hashlib.sha256()
    files = [root / "pyproject.toml", root / "scrapy.cfg"]
    for package in ("crawler", "pipelines", "samples"):
        files += sorted(p for p in (root / package).rglob("*") if p.is_file())
    for f in files:
        if "__pycache__" not in f.parts and f.suffix not in (".pyc", ".pyo"):
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_egg(folder: Path, root: Path = CHECKOUT) -> Path:
    """The project's egg as scrapyd-deploy builds it (from pyproject.toml: the packages, their
    data files, the ``scrapy`` settings entry point), in ``folder``, not in the checkout."""
    if not (root / "pyproject.toml").is_file() or not (root / "scrapy.cfg").is_file():
        raise ClusterError(
            f"cannot build the project's egg: {root} is not a newswatch checkout; deploy with"
            " scrapyd-deploy and run with --no-deploy"
        )
    cmd = [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q"]
    cmd += ["egg_info", "--egg-base", str(folder), "build", "--build-base", str(folder / "b")]
    cmd += ["bdist_egg", "--bdist-dir", str(folder / "e"), "--dist-dir", str(folder / "dist")]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    eggs = sorted((folder / "dist").glob("*.egg"))
    if done.returncode != 0 or not eggs:
        last = (done.stderr.strip().splitlines() or ["no egg written"])[-1]
        raise ClusterError(f"cannot build the project's egg: {last}")
    return eggs[0]


class Deployer:
    """Puts this checkout's egg on each node once (the egg is built at most once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.digest = source_digest()
        self.egg: Path | None = None
        self.version = f"{int(time.time())}_{self.digest}"

    def deploy(self, node: Node) -> str:
        versions = node.call("listversions", project=node.project).get("versions", [])
        same = [v for v in versions if str(v).endswith(f"_{self.digest}")]
        if same:
            return str(same[-1])
        if self.egg is None:
            self.egg = build_egg(self.folder)
        with self.egg.open("rb") as egg:
            node.call(
                "addversion",
                {"project": node.project, "version": self.version},
                files={"egg": ("project.egg", egg)},
            )
        return self.version


def check_deployed(node: Node) -> None:
    """``--no-deploy``: the project and its news spider must be on the node already."""
    if node.project not in node.call("listprojects").get("projects", []):
        raise ClusterError(f"Scrapyd node {node.url}: project {node.project!r} is not deployed")
    if SPIDER not in node.call("listspiders", project=node.project).get("spiders", []):
        raise ClusterError(f"Scrapyd node {node.url}: project {node.project!r} has no {SPIDER!r}")


def open_nodes(config: Config, on_event: Event, *, deploy: bool = True) -> list[Node]:
    """The nodes that answer, with the project deployed; one line for each that does not.
    Raises when no node is usable: a refused login is a configuration error."""
    cluster = config.cluster
    if not cluster.scrapyd:
        raise ConfigError(str(config.path), "cluster.scrapyd", "names no Scrapyd node")
    auth = scrapyd_auth()
    nodes = [Node(url, cluster.project, auth) for url in cluster.scrapyd]
    failures: list[NewswatchError] = []
    with tempfile.TemporaryDirectory(prefix="newswatch-egg-") as folder:
        deployer = Deployer(Path(folder))
        for node in nodes:
            try:
                node.call("daemonstatus")
                if deploy:
                    node.version = deployer.deploy(node)
                else:
                    check_deployed(node)
            except (ClusterError, ConfigError) as exc:
                node.alive = False
                failures.append(exc)
                on_event(f"newswatch: {exc}")
    if not any(n.alive for n in nodes):
        logins = [f for f in failures if isinstance(f, ConfigError)]
        raise logins[0] if logins else ClusterError(f"no Scrapyd node can crawl: {failures[0]}")
    return nodes
