"""``newswatch alerts preview``: any stored alert, or the pending ones, as it would be sent
(text, HTML to a file, chat form); nothing queued, nothing changed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from items import DESK_TOML, add_alert

from crawler.cli import main
from pipelines.store import open_store


def outbox(path: Path) -> list[dict[str, object]]:
    with open_store(path) as store:
        rows = [dict(r) for r in store.db.query("SELECT * FROM alerts ORDER BY id")]
        rows += [dict(r) for r in store.db.query("SELECT * FROM deliveries ORDER BY id")]
        return rows


def test_preview_renders_a_sent_alert_by_id_and_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text(DESK_TOML, "utf-8")
    with open_store(tmp_path / "nw.db") as store:
        first = add_alert(store, 1)
        add_alert(store, 2)
        store.db.execute("UPDATE alerts SET status = 'sent' WHERE id = ?", [first])
    before = outbox(tmp_path / "nw.db")
    run = CliRunner()
    base = ["--config", str(config), "alerts", "preview"]

    text = run.invoke(main, [*base, str(first), "--html", str(tmp_path / "a.html")])
    chat = run.invoke(main, [*base, "--chat"])
    pending = run.invoke(main, base)
    unknown = run.invoke(main, [*base, "99"])

    assert text.exit_code == 0, text.output
    assert "Subject: [newswatch] New: Article 1" in text.output
    assert "1 Mar 2026, 02:00" in text.output  # 01:00 UTC in Paris
    html = (tmp_path / "a.html").read_text("utf-8")
    assert "<mark" in html and "Article 1" in html
    assert chat.output.splitlines()[0] == "Article 2"  # only alert 2 is pending
    assert "Subject: [newswatch] New: Article 2" in pending.output
    assert unknown.exit_code == 2 and "no alert with id 99" in unknown.output
    assert outbox(tmp_path / "nw.db") == before
    assert not (tmp_path / "mail").exists()
