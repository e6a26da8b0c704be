"""``[store] url`` and ``[cluster]``: newswatch on more than one machine (docs/scale.md).

``[store] url = "postgresql://user@host:5432/db"`` puts the dataset in PostgreSQL instead
of the SQLite file of ``[store] path``; ``[cluster]`` names the Scrapyd nodes that
``newswatch cluster run`` schedules crawls on, and the Redis server of a shared frontier.
Passwords never come from the config: a URL that holds one is refused, and each is read
from the environment when it is needed (:data:`SECRET_ENV`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pipelines.config.checks import get_value, reject_unknown, str_list
from pipelines.errors import ConfigError

# The environment variables that hold the passwords of what [store] and [cluster] name.
STORE_PASSWORD_ENV = "NEWSWATCH_STORE_PASSWORD"  # else libpq's own PGPASSWORD / ~/.pgpass
REDIS_PASSWORD_ENV = "NEWSWATCH_REDIS_PASSWORD"
SCRAPYD_USERNAME_ENV = "NEWSWATCH_SCRAPYD_USERNAME"
SCRAPYD_PASSWORD_ENV = "NEWSWATCH_SCRAPYD_PASSWORD"
SECRET_ENV = (STORE_PASSWORD_ENV, REDIS_PASSWORD_ENV, SCRAPYD_PASSWORD_ENV)

_POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class ClusterConfig:
    """Where the crawls of ``newswatch cluster run`` go, and the shared frontier."""

    scrapyd: tuple[str, ...] = ()  # Scrapyd nodes: http(s)://host:port
    project: str = "newswatch"  # the Scrapyd project the crawler is deployed as
    sources_per_job: int = 1  # a shard: how many sources one Scrapyd job crawls
    jobs_per_source: int = 1  # jobs crawling each shard at once (> 1: redis_url needed)
    job_timeout_minutes: float = 60.0  # a job still running then is cancelled and rescheduled
    poll_seconds: float = 2.0  # how often the nodes are asked about their jobs
    max_attempts: int = 3  # a shard whose job failed this often is given up (and reported)
    redis_url: str | None = None  # redis://host:port/db: the shared request queue


def parse_store_url(value: Any, where: str) -> str:
    """``[store] url``: a PostgreSQL URL without a password."""
    key = "store.url"
    if not isinstance(value, str) or not value:
        raise ConfigError(where, key, f"must be a postgresql:// URL, not {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in _POSTGRES_SCHEMES or not (parts.hostname or parts.path.strip("/")):
        raise ConfigError(where, key, "must be a postgresql://user@host:port/database URL")
    if parts.password is not None:
        raise ConfigError(
            where, key, f"holds a password: remove it and set {STORE_PASSWORD_ENV} instead"
        )
    return value


def parse_cluster(t: dict[str, Any], where: str) -> ClusterConfig:
    d = ClusterConfig()
    reject_unknown(t, set(d.__dataclass_fields__), where, "cluster.")
    nodes = tuple(str_list(t.get("scrapyd", []), where, "cluster.scrapyd"))
    for i, node in enumerate(nodes):
        parts = urlsplit(node)
        key = f"cluster.scrapyd[{i}]"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(where, key, f"not an http(s) URL of a Scrapyd node: {node!r}")
        if parts.password is not None or parts.username is not None:
            raise ConfigError(
                where,
                key,
                f"holds a login: remove it and set {SCRAPYD_USERNAME_ENV} and"
                f" {SCRAPYD_PASSWORD_ENV} instead",
            )
    if len(set(nodes)) != len(nodes):
        raise ConfigError(where, "cluster.scrapyd", "names a node twice")
    redis_url = get_value(t, "redis_url", str, where, "cluster.redis_url", None)
    if redis_url is not None:
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise ConfigError(where, "cluster.redis_url", f"not a redis:// URL: {redis_url!r}")
        if parts.password is not None:
            raise ConfigError(
                where,
                "cluster.redis_url",
                f"holds a password: remove it and set {REDIS_PASSWORD_ENV} instead",
            )
    project = get_value(t, "project", str, where, "cluster.project", d.project)
    if not project or not project.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(where, "cluster.project", f"not a Scrapyd project name: {project!r}")
    sources_per_job = get_value(
        t, "sources_per_job", int, where, "cluster.sources_per_job", d.sources_per_job
    )
    jobs_per_source = get_value(
        t, "jobs_per_source", int, where, "cluster.jobs_per_source", d.jobs_per_source
    )
    max_attempts = get_value(t, "max_attempts", int, where, "cluster.max_attempts", d.max_attempts)
    timeout = get_value(
        t, "job_timeout_minutes", (int, float), where, "cluster.job_timeout_minutes",
        d.job_timeout_minutes,
    )  # fmt: skip
    poll = get_value(t, "poll_seconds", (int, float), where, "cluster.poll_seconds", d.poll_seconds)
    for key, number in (
        ("sources_per_job", sources_per_job),
        ("jobs_per_source", jobs_per_source),
        ("max_attempts", max_attempts),
        ("job_timeout_minutes", timeout),
        ("poll_seconds", poll),
    ):
        if number <= 0:
            raise ConfigError(where, f"cluster.{key}", f"must be more than 0, not {number!r}")
    if jobs_per_source > 1 and redis_url is None:
        raise ConfigError(
            where,
            "cluster.jobs_per_source",
            f"is {jobs_per_source} without cluster.redis_url: the jobs of a source would fetch"
            " the same articles (set redis_url, a shared frontier, or jobs_per_source = 1)",
        )
    return ClusterConfig(
        scrapyd=nodes,
        project=project,
        sources_per_job=sources_per_job,
        jobs_per_source=jobs_per_source,
        job_timeout_minutes=float(timeout),
        poll_seconds=float(poll),
        max_attempts=max_attempts,
        redis_url=redis_url,
    )
