"""`newswatch cluster run` when nodes fail: a node down from the start, a URL that is no
Scrapyd node, a refused login, a job past its deadline. Each is one clear line naming the
node, no traceback, and the exit code of `newswatch run`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import Sites, cluster_env, cluster_run, query, serve, write_config
from services.scrapyd import (
    ScrapydNode,
    ServiceUnavailable,
    free_port,
    start_scrapyd,
    unavailable,
)

from pipelines.errors import ExitCode

pytestmark = pytest.mark.crawl

TWO = ("--source", "bladi", "--source", "gen", "--no-send")
LOGIN = ("crawl-admin", "n0de-s3cret")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScrapydNode]:
    try:
        started = start_scrapyd(tmp_path_factory.mktemp("scrapyd"), max_proc=2)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    yield started
    started.stop()


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[Sites]:
    with serve(tmp_path / "sites") as served:
        yield served


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    with cluster_run(config, *args, env=env or cluster_env()) as proc:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return proc.returncode, out, err


def problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("newswatch: ")]


def test_a_node_down_from_the_start_leaves_the_pass_to_the_others(
    tmp_path: Path, sites: Sites, node: ScrapydNode
) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, [down, node.url])
    code, out, err = run(config, *TWO)
    assert code == ExitCode.OK, err
    assert problems(err) == [f"newswatch: Scrapyd node {down}: unreachable (connection refused)"]
    assert "Traceback" not in err
    assert {r["source"] for r in query(config, "SELECT DISTINCT source FROM articles")} >= {
        "bladi",
        "gen",
    }
    assert down not in out


def test_no_node_that_answers_is_one_line_and_no_run(tmp_path: Path, sites: Sites) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, [down])
    code, out, err = run(config, *TWO)
    assert code == ExitCode.FAILED
    assert "Traceback" not in err and out == ""
    assert problems(err)[-1] == (
        f"newswatch: error: no Scrapyd node can crawl: Scrapyd node {down}:"
        " unreachable (connection refused)"
    )
    assert not (config.parent / "newswatch.db").exists() or not query(config, "SELECT * FROM runs")


def test_a_url_that_is_no_scrapyd_node(tmp_path: Path, sites: Sites) -> None:
    site = sites.servers["gen"]  # a web server, but not Scrapyd
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, [site])
    code, _, err = run(config, *TWO)
    assert code == ExitCode.FAILED
    assert "Traceback" not in err
    line = problems(err)[-1]
    assert site in line and "not a Scrapyd node" in line and "HTTP 404" in line


def test_a_refused_login_names_the_node_and_never_the_password(
    tmp_path: Path, sites: Sites
) -> None:
    try:
        guarded = start_scrapyd(tmp_path / "guarded", max_proc=1, login=LOGIN)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    try:
        config = write_config(tmp_path / "work" / "newswatch.toml", sites, [guarded.url])
        env = cluster_env(
            NEWSWATCH_SCRAPYD_USERNAME=LOGIN[0], NEWSWATCH_SCRAPYD_PASSWORD="wrong-pass-w0rd"
        )
        code, out, err = run(config, *TWO, env=env)
        assert code == ExitCode.CONFIG
        assert "Traceback" not in err
        (line,) = problems(err)[-1:]
        assert guarded.url in line and "refused the login" in line
        assert "wrong-pass-w0rd" not in out + err
        # With the right login, the same node crawls.
        env["NEWSWATCH_SCRAPYD_PASSWORD"] = LOGIN[1]
        code, out, err = run(config, *TWO, env=env)
        assert code == ExitCode.OK, err
        assert LOGIN[1] not in out + err + guarded.log()
    finally:
        guarded.stop()


def test_a_job_past_its_deadline_is_cancelled_and_given_up(
    tmp_path: Path, sites: Sites, node: ScrapydNode
) -> None:
    cluster = {"job_timeout_minutes": 0.05, "max_attempts": 1}  # 3 s
    config = write_config(tmp_path / "work" / "newswatch.toml", sites, [node.url], cluster=cluster)
    sites.servers.set_delay("gen", 20)  # every page of it takes 20 s
    code, out, err = run(config, "--source", "gen", "--no-send")
    assert code == ExitCode.FAILED, err
    assert "Traceback" not in err
    (line,) = problems(err)
    assert line.startswith(f"newswatch: {node.url}: job ")
    assert line.endswith(
        "(gen) still running after 0.05 min ([cluster] job_timeout_minutes): cancelled;"
        " given up after 1 attempt(s) ([cluster] max_attempts)"
    )
    assert "FAILED (job_timeout 1)" in out
    (run_row,) = query(config, "SELECT status, exit_code FROM runs")
    assert tuple(run_row) == ("failed", ExitCode.FAILED)
    assert node.daemonstatus()["running"] == 0, "the job was cancelled"
