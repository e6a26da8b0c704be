"""Exit codes of the commands that only read or change the store (``ExitCode``): a failing
source is 1 for ``sources status``; an unknown id or a missing file is a usage error, 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

# Imported while collecting, as the command would import it: urllib3 (under trafilatura)
# warns about SOCKS support when first imported, and warnings are errors inside a test.
import pipelines.topics.fetch  # noqa: F401
from crawler.cli import main
from pipelines.errors import ExitCode
from pipelines.store import open_store, table
from pipelines.store.runs import HealthRow

TOML = """
[store]
path = "nw.db"
[alerts]
to = ["analyst@example.org"]
from = "newswatch@example.org"
maildir = "mail"

[[sources]]
name = "bladi"
feeds = ["http://127.0.0.1:9/rss"]

[[sources]]
name = "trends"
feeds = ["http://127.0.0.1:9/feed"]
"""


def setup(tmp_path: Path) -> Path:
    config = tmp_path / "nw.toml"
    config.write_text(TOML, "utf-8")
    open_store(tmp_path / "nw.db").close()
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_sources_status_exits_1_while_a_source_is_failing(tmp_path: Path) -> None:
    config = setup(tmp_path)
    assert invoke(config, "sources", "status")[0] == ExitCode.OK
    with open_store(tmp_path / "nw.db") as store:
        store.save_source_health(HealthRow("trends", "failing", 3, "2026-03-01", None, "refused 3"))
    code, out, _ = invoke(config, "sources", "status")
    assert code == ExitCode.FAILED
    assert "1 source(s) FAILING: trends" in out
    code, out, _ = invoke(config, "sources", "status", "--json")
    assert code == ExitCode.FAILED
    assert {json.loads(line)["source"]: json.loads(line)["state"] for line in out.splitlines()} == {
        "bladi": "never run",
        "trends": "failing",
    }


def test_resending_an_unknown_alert_names_it_queues_nothing_and_exits_2(tmp_path: Path) -> None:
    config = setup(tmp_path)
    db = open_store(tmp_path / "nw.db").db
    article = (
        table(db, "articles")
        .insert(
            {
                "url": "https://news.example.org/a1",
                "url_key": "news.example.org/a1",
                "source": "bladi",
                "text": "texte",
                "fetched_at": "2026-03-01T07:00:00+00:00",
            }
        )
        .last_pk
    )
    table(db, "alerts").insert(
        {"article_id": article, "topic": "t", "created_at": "2026-03-01T07:00:00+00:00"}
    )
    db.execute("UPDATE alerts SET status = 'failed', attempts = 5")
    code, out, err = invoke(config, "alerts", "resend", "1", "999")
    assert code == ExitCode.CONFIG
    assert err == (
        "newswatch: usage error: no alert with id 999; nothing queued again"
        " (see: newswatch alerts list)\n"
    )
    assert out == ""
    assert [r["status"] for r in db.query("SELECT status FROM alerts")] == ["failed"]
    code, out, _ = invoke(config, "alerts", "resend", "1")
    assert (code, out) == (ExitCode.OK, "1 alert(s) queued again\n")


def test_topics_test_on_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    config = setup(tmp_path)
    missing = tmp_path / "missing.html"
    code, out, err = invoke(config, "topics", "test", str(missing))
    assert code == ExitCode.CONFIG, err
    assert err == f"newswatch: usage error: {missing}: no such file\n"
    assert "Traceback" not in out + err
