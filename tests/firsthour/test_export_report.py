"""Export filters and formats, the period report, and commands that only read."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dataset_builder import RELEVANT_DAYS, make_dataset

from crawler.cli import hoist_global_options, main
from pipelines.store.queries import EXPORT_COLUMNS


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def export_json(cfg: Path, *args: str) -> list[dict[str, object]]:
    code, out = invoke("--config", str(cfg), "export", *args)
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines()]


def test_export_filters(dataset: Path) -> None:
    everything = export_json(dataset)
    assert len(everything) == 5
    assert set(EXPORT_COLUMNS) <= set(everything[0])
    assert {"found_via", "feed_title", "canonical_url", "final_url"} <= set(everything[0])
    assert len(export_json(dataset, "--with-seeds")) == 10
    assert [a["lang"] for a in export_json(dataset, "--lang", "nl")] == ["nl"]
    assert {a["source"] for a in export_json(dataset, "--source", "trends")} == {"trends"}
    assert len(export_json(dataset, "--source", "trends", "--source", "bladna")) == 3
    assert len(export_json(dataset, "--topic", "morocco-israel-defence")) == 4
    assert export_json(dataset, "--topic", "other") == []
    assert len(export_json(dataset, "--relevant", "--exclude-copies")) == 3
    assert len(export_json(dataset, "--since", "2026-11-17", "--until", "2026-11-18")) == 2
    assert len(export_json(dataset, "--since", "36500d")) == 5
    code, out = invoke("--config", str(dataset), "export", "--since", "last week")
    assert code == 2 and "--since 'last week': give a day (2026-11-01) or days ago (30d)" in out


def test_csv_has_a_bom_and_keeps_accents(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out = invoke("--config", str(dataset), "export", "--format", "csv", "-o", str(target))
    assert code == 0 and "5 article(s) written" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert "Élévation: un été à Essaouira" in {r["title"] for r in rows}
    code, out = invoke("--config", str(dataset), "export", "--format", "csv")
    assert out.startswith("\ufeffid,url,")


def test_parquet(dataset: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "out.parquet"
    code, out = invoke("--config", str(dataset), "export", "--format", "parquet", "-o", str(target))
    assert code == 0, out
    table = pq.read_table(target)
    assert table.num_rows == 5
    topics = table.column("topics").to_pylist()
    assert topics[0][0]["topic"] == "morocco-israel-defence" and topics[3] == []
    code, out = invoke("--config", str(dataset), "export", "--format", "parquet")
    assert code == 2 and "add -o FILE.parquet" in out


def test_report_markdown_and_html(dataset: Path, tmp_path: Path) -> None:
    code, md = invoke(
        "--config",
        str(dataset),
        "report",
        "--since",
        "2026-11-15",
        "--until",
        "2026-11-21",
        "--format",
        "md",
    )
    assert code == 0, md
    assert "2026-11-15 to 2026-11-21 (7 days): 3 relevant item(s), 0 pass(es)." in md
    assert "| 2026-11-16 | 1 | 0 | 0 | 1 |" in md  # en fr nl total
    assert "Topic precision and recall" in md and "| morocco-israel-defence | labelled |" in md
    target = tmp_path / "r.html"
    code, out = invoke(
        "--config",
        str(dataset),
        "report",
        "--since",
        "2026-11-15",
        "--until",
        "2026-11-21",
        "-o",
        str(target),
        "--no-scores",
    )
    assert code == 0 and "3 relevant item(s)" in out
    html = target.read_text(encoding="utf-8")
    assert html.count('<g class="day"') == 14  # 7 days, two charts
    for day in RELEVANT_DAYS:
        assert f'data-day="{day}" data-total="1"' in html
    assert "http" not in html.replace('href="http://example.org/', "")  # nothing fetched
    assert "<script" not in html


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text('[store]\npath = "none.db"\n', encoding="utf-8")
    for command in (["export"], ["report"], ["serve"]):
        code, out = invoke("--config", str(cfg), *command)
        assert code == 2, (command, out)
        assert out.startswith(f"newswatch: usage error: no database at {tmp_path / 'none.db'}")
        assert out.count("\n") == 1
    assert not (tmp_path / "none.db").exists()


def test_config_before_or_after_the_command(dataset: Path) -> None:
    before = invoke("--config", str(dataset), "export", "--lang", "nl")
    after = invoke("export", "--lang", "nl", "--config", str(dataset))
    equals = invoke("export", f"--config={dataset}", "--lang", "nl")
    assert before == after == equals and before[0] == 0
    assert hoist_global_options(["alerts", "list", "-v", "--config", "x"]) == [
        "-v",
        "--config",
        "x",
        "alerts",
        "list",
    ]
    assert hoist_global_options(["topics", "test", "--", "--config"]) == [
        "topics",
        "test",
        "--",
        "--config",
    ]


def test_missing_optional_extras_cost_one_line(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasette.app", None)  # import fails
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, out = invoke("--config", str(dataset), "serve")
    assert (code, out) == (
        2,
        "newswatch: usage error: datasette is not installed: pip install 'newswatch[serve]'\n",
    )
    code, out = invoke(
        "--config", str(dataset), "export", "--format", "parquet", "-o", str(tmp_path / "x")
    )
    assert (code, out) == (
        2,
        "newswatch: usage error: Parquet needs pyarrow: pip install 'newswatch[parquet]'\n",
    )
    meta = tmp_path / "metadata.json"
    code, out = invoke("--config", str(dataset), "serve", "--write-metadata", str(meta))
    assert code == 0 and json.loads(meta.read_text())["title"] == "newswatch"
