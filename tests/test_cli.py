"""The command line as a user meets it: help with examples, clear errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main

COMMANDS = [
    [],
    ["init"],
    ["run"],
    ["alerts"],
    ["alerts", "list"],
    ["alerts", "send"],
    ["alerts", "resend"],
    ["export"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "newswatch")
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    if command != ["alerts"]:
        assert "Example" in result.output and "newswatch" in result.output


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
    assert out.output.count("seed:") == 5
