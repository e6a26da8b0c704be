"""A pass whose crawls run as Scrapyd jobs: ``newswatch cluster run`` (docs/scale.md).

The pass is ``newswatch run``'s (``crawler/passes.py``: the lock and the ``runs`` row here,
health and alerts once, :func:`~crawler.passes.finish_pass`); each crawl is a Scrapyd job,
``scrapy crawl news -a source=X`` (``-a sources=X,Y`` for a shard, ``crawler/commands``)
with the config's path on the node, the pass's run and the job's id as settings: the job's
extension adds each source's counts to the run under that id (``crawler/extension.py``).
Each shard gets ``jobs_per_source`` jobs (more than one needs a shared frontier in Redis,
``crawler/redisfrontier``: they take the source's articles from one queue), whose counts
add up in the run. Jobs go to the live nodes by their free slots (a batch that doubles
while a node has no job waiting, none while it has); a job is done when its id is in the
run under each of its sources. A job that ended without that, vanished, lost its node or
ran past ``job_timeout_minutes`` (cancelled) has its unfinished sources scheduled again on
a live node, up to ``max_attempts``, then reported failed. Articles are keyed by URL: a
source crawled again skips what an earlier attempt stored.

The Scrapyd nodes themselves (their API, the egg, deploying): ``crawler/scrapydnodes.py``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.extension import JOB_ID_SETTING, RUN_ID_SETTING
from crawler.passes import PassReport, finish_pass
from crawler.recorder import open_run
from crawler.scrapydnodes import SPIDER, ClusterError, Event, Node, open_nodes
from crawler.stats import SourceReport
from pipelines.config import Config, SourceConfig
from pipelines.errors import ConfigError
from pipelines.seeds import import_seeds
from pipelines.store import open_config_store, store_errors, store_name
from pipelines.store.lock import store_pass_lock

if TYPE_CHECKING:
    from pipelines.channels import Channel

MAX_BATCH = 32  # jobs handed to one node at once
COUNTS = frozenset(SourceReport.__dataclass_fields__)  # a run entry's keys a report reads

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
        """The sources whose counts are in the run: each source's counts summed over the
        jobs that recorded them, and under ``jobs`` each of those jobs' id."""
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
            mine = [done.get(s, {}).get("jobs", {}).get(job.id) for s in job.shard]
            left = tuple(s for s, counts in zip(job.shard, mine, strict=True) if counts is None)
            state = states.get(job.node.url, {}).get(job.id) if job.node.alive else "lost"
            if not left:
                self.active.pop(job.id)
                fetched, new = (sum(int(c[k]) for c in mine if c) for k in ("fetched", "new"))
                self.on_event(
                    f"{job.node.url}: job {job.id} done: {_names(job.shard)},"
                    f" {fetched} fetched, {new} new"
                )
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
        """Schedule a job of ``shard`` on ``node``, under a job id of the pass's making: the
        job records its counts under it (``NEWSWATCH_JOB_ID``)."""
        job_id = uuid.uuid4().hex
        settings = [f"NEWSWATCH_CONFIG={self.node_config}", f"{RUN_ID_SETTING}={self.run_id}"]
        settings.append(f"{JOB_ID_SETTING}={job_id}")
        data: dict[str, Any] = {"project": node.project, "spider": SPIDER, "setting": settings}
        data["jobid"] = job_id
        data["source" if len(shard) == 1 else "sources"] = ",".join(shard)
        if node.version is not None:
            data["_version"] = node.version
        answer = str(node.call("schedule", data)["jobid"])
        if answer != job_id:
            raise ClusterError(f"Scrapyd node {node.url}: ignored the job id newswatch chose")
        return job_id

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
        """Each source's counts as its jobs recorded them (summed); a source given up (a
        job of it failed ``max_attempts`` times) or never recorded failed as a whole, with
        the reason as its error: what its other jobs stored stays stored."""
        done = self.recorded()
        out = []
        for name in names:
            if name in done and name not in self.given_up:
                counts = {k: v for k, v in done[name].items() if k in COUNTS}
                out.append(SourceReport(**{**counts, "name": name}))
            else:
                kind = self.given_up.get(name, "job_failed")
                out.append(SourceReport(name, discovery_failed=1, errors={kind: 1}))
        return out


def _names(shard: Sequence[str]) -> str:
    return ", ".join(shard)


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
    per_job, jobs_per_shard = config.cluster.sources_per_job, config.cluster.jobs_per_source
    with store_pass_lock(config), store_errors(store_name(config)):
        nodes = open_nodes(config, on_event, deploy=deploy)
        with open_config_store(config) as store:
            run_id = open_run(store)
            # Once here, not by each job at once (each would insert the same seed rows).
            import_seeds(store, config.topics)
        state = ClusterPass(
            config, run_id, nodes, node_config or str(Path(config.path).resolve()), on_event
        )
        state.todo.extend(  # each shard by jobs_per_source jobs, side by side
            (tuple(chosen[i : i + per_job]), 1)
            for i in range(0, len(chosen), per_job)
            for _ in range(jobs_per_shard)
        )
        state.run()
        return finish_pass(config, run_id, state.reports(chosen), channels)
