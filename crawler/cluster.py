"""A pass whose crawls run as Scrapyd jobs: ``newswatch cluster run`` (docs/scale.md).

The pass is ``newswatch run``'s (``crawler/passes.py``: the lock and the ``runs`` row here,
health and alerts once, :func:`~crawler.passes.finish_pass`); each crawl is a Scrapyd job,
``scrapy crawl news -a source=X`` (``-a sources=X,Y`` for a shard, ``crawler/commands``)
with the config's path on the node and the pass's run as settings: the job's extension adds
each source's counts to the run (``crawler/extension.py``). Shards go to the live nodes by
their free slots (a batch that doubles while a node has no job waiting, none while it has);
a source is done when its counts are in the run. A job that ended without them, vanished,
lost its node or ran past ``job_timeout_minutes`` (cancelled) has its unfinished sources
scheduled again on a live node, up to ``max_attempts``, then reported failed. Articles are
keyed by URL: a source crawled again skips what an earlier attempt stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.passes import PassReport, finish_pass
from crawler.recorder import open_run
from crawler.stats import SourceReport
from pipelines.config import Config, SourceConfig
from pipelines.config.cluster import SCRAPYD_PASSWORD_ENV, SCRAPYD_USERNAME_ENV
from pipelines.errors import ConfigError, NewswatchError
from pipelines.seeds import import_seeds
from pipelines.store import open_config_store, store_errors
from pipelines.store.lock import store_pass_lock

if TYPE_CHECKING:
    from pipelines.channels import Channel

SPIDER = "news"
HTTP_TIMEOUT = 30.0  # seconds for one Scrapyd API call
MAX_BATCH = 32  # jobs handed to one node at once
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


_FAILED = {  # a job's state on its node -> why its unfinished sources are scheduled again
    "finished": "ended without recording its counts",
    None: "vanished from the node",
    "lost": "lost with its node",
}


@dataclass
class Job:
    id: str
    shard: tuple[str, ...]
    node: Node
    attempt: int
    started: float = field(default_factory=time.monotonic)


@dataclass
class ClusterPass:
    """The scheduling state of one pass; :meth:`run` drives it to the end."""

    config: Config
    run_id: int
    nodes: list[Node]
    node_config: str  # the config file as the nodes read it
    on_event: Event
    todo: deque[tuple[tuple[str, ...], int]] = field(default_factory=deque)
    active: dict[str, Job] = field(default_factory=dict)
    given_up: dict[str, str] = field(default_factory=dict)  # source -> error kind

    def run(self) -> None:
        try:
            while self.todo or self.active:
                self.check_jobs()
                self.schedule()
                while self.todo and not any(n.alive for n in self.nodes):
                    shard, _ = self.todo.popleft()
                    self.given_up.update(dict.fromkeys(shard, "job_failed"))
                    self.on_event(f"newswatch: {_names(shard)}: given up: no Scrapyd node left")
                if self.todo or self.active:
                    time.sleep(self.config.cluster.poll_seconds)  # the polling interval
        finally:  # interrupted: the jobs of an abandoned pass stop too
            for job in list(self.active.values()):
                self.cancel(job)

    def recorded(self) -> dict[str, dict[str, Any]]:
        """The sources whose counts are in the run."""
        with open_config_store(self.config) as store:
            row = store.run_row(self.run_id)
        return dict(json.loads((row or {}).get("sources") or "{}"))

    def check_jobs(self) -> None:
        timeout = self.config.cluster.job_timeout_minutes
        states: dict[str, dict[str, str]] = {}  # node -> job id -> pending, running, finished
        for node in {job.node.url: job.node for job in self.active.values()}.values():
            try:
                jobs = node.call("listjobs", project=node.project)
                states[node.url] = {
                    str(j["id"]): k for k in ("pending", "running", "finished") for j in jobs[k]
                }
            except (ClusterError, ConfigError) as exc:
                self.node_down(node, str(exc))
        done = self.recorded()  # after the nodes: a job seen finished has recorded by now
        for job in list(self.active.values()):
            left = tuple(s for s in job.shard if s not in done)
            state = states.get(job.node.url, {}).get(job.id) if job.node.alive else "lost"
            if not left:
                self.active.pop(job.id)
                new = sum(int(done[s].get("new", 0)) for s in job.shard)
                self.on_event(f"{job.node.url}: job {job.id} done: {_names(job.shard)}, {new} new")
            elif state in _FAILED:
                self.retry(job, left, "job_failed", _FAILED[state])
            elif time.monotonic() - job.started > timeout * 60:
                self.cancel(job)
                why = f"still running after {timeout:g} min ([cluster] job_timeout_minutes)"
                self.retry(job, left, "job_timeout", f"{why}: cancelled")

    def retry(self, job: Job, left: tuple[str, ...], kind: str, why: str) -> None:
        self.active.pop(job.id, None)
        attempts = self.config.cluster.max_attempts
        if job.attempt >= attempts:
            self.given_up.update(dict.fromkeys(left, kind))
            self.on_event(
                f"newswatch: {job.node.url}: job {job.id} ({_names(left)}) {why};"
                f" given up after {job.attempt} attempt(s) ([cluster] max_attempts)"
            )
            return
        self.todo.appendleft((left, job.attempt + 1))
        self.on_event(
            f"newswatch: {job.node.url}: job {job.id} ({_names(left)}) {why}; scheduled again"
        )

    def schedule(self) -> None:
        room: dict[str, int] = {}
        for node in (n for n in self.nodes if n.alive):
            try:
                waiting = int(node.call("daemonstatus").get("pending", 0))
            except (ClusterError, ConfigError) as exc:
                self.node_down(node, str(exc))
                continue
            if waiting:  # full: its next job is queued already
                node.batch = 2
                continue
            room[node.url] = node.batch
            node.batch = min(node.batch * 2, MAX_BATCH)
        by_url = {n.url: n for n in self.nodes}
        while self.todo and room:
            url = max(room, key=lambda u: room[u])
            shard, attempt = self.todo.popleft()
            node = by_url[url]
            try:
                job_id = self.start(node, shard)
            except (ClusterError, ConfigError) as exc:
                self.todo.appendleft((shard, attempt))
                self.node_down(node, str(exc))
                room.pop(url)
                continue
            self.active[job_id] = Job(job_id, shard, node, attempt)
            self.on_event(f"{node.url}: job {job_id} scheduled: {_names(shard)}")
            room[url] -= 1
            if room[url] <= 0:
                room.pop(url)

    def start(self, node: Node, shard: tuple[str, ...]) -> str:
        settings = [f"NEWSWATCH_CONFIG={self.node_config}", f"NEWSWATCH_RUN_ID={self.run_id}"]
        data: dict[str, Any] = {"project": node.project, "spider": SPIDER, "setting": settings}
        data["source" if len(shard) == 1 else "sources"] = ",".join(shard)
        if node.version is not None:
            data["_version"] = node.version
        return str(node.call("schedule", data)["jobid"])

    def cancel(self, job: Job) -> None:
        """Stop a job at once (SIGKILL): what it stored stays, its sources are not done."""
        if job.node.alive:
            try:
                data = {"project": job.node.project, "job": job.id, "signal": "KILL"}
                job.node.call("cancel", data)
            except (ClusterError, ConfigError):
                pass  # the node went away: so did the job

    def node_down(self, node: Node, why: str) -> None:
        if node.alive:
            node.alive = False
            self.on_event(f"newswatch: {why}; its unfinished sources go to the other nodes")

    def reports(self, names: Sequence[str]) -> list[SourceReport]:
        """Each source's counts as its job recorded them; a source given up (or never
        recorded) failed as a whole, with the reason as its error."""
        done = self.recorded()
        out = []
        for name in names:
            if name in done and name not in self.given_up:
                out.append(SourceReport(**{**done[name], "name": name}))
            else:
                kind = self.given_up.get(name, "job_failed")
                out.append(SourceReport(name, discovery_failed=1, errors={kind: 1}))
        return out


def _names(shard: Sequence[str]) -> str:
    return ", ".join(shard)


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


def run_cluster_pass(
    config: Config,
    *,
    sources: Sequence[SourceConfig] | None = None,
    channels: Sequence[Channel] | None = None,
    node_config: str | None = None,
    deploy: bool = True,
    on_event: Event = print,
) -> PassReport:
    """One pass over ``sources`` (default: every enabled one), crawled by Scrapyd jobs;
    ``node_config``: the config file's path on the nodes (default: this one's, absolute)."""
    chosen = [s.name for s in (sources if sources is not None else config.enabled_sources())]
    per_job = config.cluster.sources_per_job
    with store_pass_lock(config), store_errors(config.store_path):
        nodes = open_nodes(config, on_event, deploy=deploy)
        with open_config_store(config) as store:
            run_id = open_run(store)
            # Once here, not by each job at once (each would insert the same seed rows).
            import_seeds(store, config.topics)
        state = ClusterPass(
            config, run_id, nodes, node_config or str(Path(config.path).resolve()), on_event
        )
        state.todo.extend(
            (tuple(chosen[i : i + per_job]), 1) for i in range(0, len(chosen), per_job)
        )
        state.run()
        return finish_pass(config, run_id, state.reports(chosen), channels)
