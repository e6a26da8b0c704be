"""The command line as a user meets it: help with examples, clear errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import run_newswatch

from crawler.cli import main
from crawler.cli.passtable import print_pass
from crawler.passes import PassReport, SourceHealth, SourceReport
from pipelines.store import open_store
from samples.localserver import SiteServers

COMMANDS = [
    [],
    ["init"],
    ["run"],
    ["alerts"],
    ["alerts", "list"],
    ["alerts", "send"],
    ["alerts", "resend"],
    ["alerts", "preview"],
    ["export"],
    ["demo"],
    ["report"],
    ["serve"],
    ["schedule"],
    ["doctor"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "newswatch")
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    if command != ["alerts"]:
        assert "Example" in result.output and "newswatch" in result.output


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command under ``group``, sub-groups and their commands included."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))


def test_the_help_walk_meets_every_command_listed_above() -> None:
    walked = {" ".join(path) for path in every_command(main)}
    assert {" ".join(c) for c in COMMANDS if c} <= walked
    assert {"sources status", "sources check", "topics eval", "topics test"} <= walked


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    return command


LEAF_COMMANDS = [p for p in every_command(main) if not isinstance(_command(p), click.Group)]


@pytest.mark.parametrize("path", LEAF_COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example_of_itself(path: tuple[str, ...]) -> None:
    """As sqlite-utils does it: each --help ends with an example to copy, naming the command."""
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, result.output
    example = result.output[result.output.index("Example") :]
    options = r"(?:\s+--?[\w-]+(?:[ =][^-\s]\S*)?)*"
    assert re.search(rf"newswatch{options}\s+{re.escape(' '.join(path))}\b", example), example


def test_bad_config_is_exit_2_with_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[alerts]\nmode = "hourly"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "init"])
    assert result.exit_code == 2
    assert f"{cfg}: alerts.mode: must be 'each' or 'digest'" in result.output


def test_missing_config_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "run"])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_unknown_source_is_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text(
        '[[sources]]\nname = "a"\nfeeds = ["http://127.0.0.1:9/feed"]\n', encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--config", str(cfg), "run", "--source", "b"])
    assert result.exit_code == 2
    assert "no source named 'b'" in result.output


def test_init_twice_and_export(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text('[store]\npath = "x.db"\n', encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(cfg), "init"])
    second = runner.invoke(main, ["--config", str(cfg), "init"])
    assert first.exit_code == 0 and "5 added" in first.output
    assert second.exit_code == 0 and "0 added" in second.output
    out = runner.invoke(main, ["--config", str(cfg), "export", "--with-seeds", "--format", "csv"])
    assert out.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.output.removeprefix("\ufeff"))))
    assert [r["source"] for r in rows] == ["seed"] * 5


def test_alerts_list_on_an_empty_dataset_says_so(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text('[store]\npath = "nw.db"\n', encoding="utf-8")
    runner = CliRunner()
    missing = runner.invoke(main, ["--config", str(cfg), "alerts", "list"])
    assert missing.exit_code == 2 and len(missing.output.splitlines()) == 1, missing.output
    assert "nw.db" in missing.output and not (tmp_path / "nw.db").exists()
    open_store(tmp_path / "nw.db").db.close()  # an empty dataset
    text = runner.invoke(main, ["--config", str(cfg), "alerts", "list"])
    assert (text.exit_code, text.output) == (0, "no alerts\n")
    as_json = runner.invoke(main, ["--config", str(cfg), "alerts", "list", "--json"])
    assert (as_json.exit_code, as_json.output) == (0, "")


def test_sources_status_before_any_pass_shows_each_source_never_run(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text(
        '[store]\npath = "nw.db"\n[[sources]]\nname = "a"\nfeeds = ["http://127.0.0.1:9/f"]\n'
        '[[sources]]\nname = "b"\nfeeds = ["http://127.0.0.1:9/g"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    table = runner.invoke(main, ["--config", str(cfg), "sources", "status"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["source", "state", "passes"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["a", "never", "run", "0"],
        ["b", "never", "run", "0"],
    ]
    rows = runner.invoke(main, ["--config", str(cfg), "sources", "status", "--json"])
    parsed = [json.loads(line) for line in rows.output.splitlines()]
    assert [(r["source"], r["state"], r["passes"]) for r in parsed] == [
        ("a", "never run", 0),
        ("b", "never run", 0),
    ]


def test_exit_codes_are_documented_in_the_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for code in range(6):
        assert f"\n  {code}  " in result.output


@pytest.mark.crawl
def test_under_cron_a_pass_prints_one_summary_line(config_path: Path, servers: SiteServers) -> None:
    result = run_newswatch("run", config=config_path)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 2, result.out
    assert lines[0].startswith("run 1: 3 source(s), ") and " new, " in lines[0]
    assert lines[1].startswith("alerts: ")
    sent = int(lines[1].split()[1])
    assert sent == len(list((config_path.parent / "maildir" / "new").iterdir())) > 0
    conn = sqlite3.connect(config_path.parent / "newswatch.db")
    assert conn.execute("SELECT alerts_sent FROM runs").fetchall() == [(sent,)]
    conn.close()


def test_on_a_terminal_a_source_in_trouble_is_named_under_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = SourceReport("bladi", requests=6, discovery_failed=2, errors={"refused": 2})
    empty = SourceReport("trends", requests=9, discovery_ok=1, errors={"http_503": 7})
    fine = SourceReport("bladna", requests=5, discovery_ok=1, new=2, errors={"http_404": 1})
    report = PassReport(
        7,
        [down, empty, fine],
        {"bladi": SourceHealth("failing", 3), "trends": SourceHealth("ok", 1)},
    )
    print_pass(report)
    lines = capsys.readouterr().out.splitlines()
    status = {line.split()[0]: line for line in lines[1:4]}
    assert status["bladi"].endswith(
        "FAILED (refused 2; 3 bad passes in a row; source failing, operator notified)"
    )
    assert status["trends"].endswith("NO ARTICLE (http_503 7)")
    assert status["bladna"].endswith("ok (http_404 1)")  # one page gone says nothing
    assert lines[4] == (
        "run 7: 3 source(s), 20 requests, 2 new, 0 relevant, 0 alert(s) queued, 10 error(s);"
        " bladi FAILED (refused 2; 3 bad passes in a row; source failing, operator notified);"
        " trends NO ARTICLE (http_503 7)"
    )
    assert lines[5:] == [
        "see why: newswatch sources check bladi",
        "see why: newswatch sources check trends",
    ]
