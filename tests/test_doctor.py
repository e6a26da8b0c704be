"""``newswatch doctor`` against real servers on 127.0.0.1: one line per check, exit 1 on FAIL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner, Result
from conftest import garbage_server

from crawler.cli import main
from pipelines.store import MIGRATIONS, open_db
from samples.demo import DEMO_SITES
from samples.localserver import SiteServers

if TYPE_CHECKING:
    from smtpserver import SmtpServer

pytest_plugins = ["smtpserver"]


def doctor(config: Path, smtp_url: str | None = None) -> Result:
    env = {"NEWSWATCH_SMTP_URL": smtp_url} if smtp_url else {"NEWSWATCH_SMTP_URL": ""}
    return CliRunner().invoke(main, ["--config", str(config), "doctor", "--timeout", "5"], env=env)


def test_everything_reachable_is_all_ok_and_nothing_is_sent(
    config_path: Path, servers: SiteServers, smtp_auth_server: SmtpServer
) -> None:
    result = doctor(config_path, smtp_auth_server.url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok    config",
        "ok    database",
        "ok    smtp",
        *[f"ok    source {site}" for site in DEMO_SITES],
    ]
    assert "logged in, nothing sent" in lines[2]
    assert smtp_auth_server.received == []
    for site in DEMO_SITES:  # one HEAD request each, nothing crawled
        assert [r.method for r in servers.requests(site)] == ["HEAD"]


def test_a_site_down_and_smtp_down_each_fail_and_say_where(
    config_path: Path, servers: SiteServers, closed_port: int
) -> None:
    servers.take_down("bladna")
    result = doctor(config_path, f"smtp://127.0.0.1:{closed_port}")
    assert result.exit_code == 1
    fails = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 2
    assert f"127.0.0.1:{closed_port}" in fails[0] and "connection refused" in fails[0]
    assert fails[1].startswith("FAIL  source bladna: " + servers["bladna"])
    assert "ok    source bladi" in result.output  # one failure does not hide the rest


def test_a_wrong_smtp_password_fails_without_showing_it(
    config_path: Path, servers: SiteServers, smtp_auth_server: SmtpServer
) -> None:
    assert smtp_auth_server.password is not None
    url = smtp_auth_server.url.replace("s3cret", "Hunter2-Doctor")
    result = doctor(config_path, url)
    assert result.exit_code == 1
    assert "FAIL  smtp" in result.output and "authentication failed" in result.output
    assert "Hunter2" not in result.output


def test_a_server_that_does_not_answer_in_http_is_one_failing_line(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    with garbage_server() as base:
        config.write_text(
            '[store]\npath = "nw.db"\n[alerts]\nmaildir = "mail"\n'
            '[crawl]\nallow_private_targets = ["127.0.0.1"]\n'
            f'[[sources]]\nname = "junk"\nfeeds = ["{base}/rss"]\n',
            encoding="utf-8",
        )
        result = doctor(config)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.splitlines()[-1] == (
        f"FAIL  source junk: {base}/rss: not a valid HTTP response (BadStatusLine: 'garbage')"
    )


def test_a_bad_config_is_one_failing_line(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text('[alerts]\nmode = "hourly"\n', encoding="utf-8")
    result = doctor(config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"FAIL  config: {config}: alerts.mode: must be 'each' or 'digest', not 'hourly'"
    ]


def test_without_smtp_the_maildir_is_checked(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text('[store]\npath = "nw.db"\n[alerts]\nmaildir = "mail"\n', encoding="utf-8")
    result = doctor(config)
    assert result.exit_code == 0, result.output
    assert f"ok    maildir: {tmp_path / 'mail'}: writable" in result.output


def test_the_database_is_checked_without_being_changed(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text('[store]\npath = "nw.db"\n[alerts]\nmaildir = "mail"\n', encoding="utf-8")
    db_path = tmp_path / "nw.db"
    result = doctor(config)
    assert f"ok    database: {db_path}: not created yet" in result.output
    assert not db_path.exists()

    db = open_db(db_path)
    db.execute("DELETE FROM _migrations WHERE name = ?", [MIGRATIONS[-1][0]])
    db.close()
    result = doctor(config)
    assert result.exit_code == 0, result.output
    assert f"1 migration(s) pending ({MIGRATIONS[-1][0]})" in result.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS) - 1
    conn.close()

    db_path.unlink()
    db_path.write_bytes(b"this is not a database" * 100)
    result = doctor(config)
    assert result.exit_code == 1
    assert f"FAIL  database: {db_path}: not a writable SQLite database: " in result.output
