"""A pass's start without the cyclic garbage collector (pipelines/collector.py): off from the
``run`` command's first step until the crawls are set up, then on again for the crawl, and
on again after any error that comes first."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler import passes
from crawler.cli import main
from pipelines.collector import collection_paused, resume_collection


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_in_the_block_and_on_after_it() -> None:
    gc.enable()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested: the outer block decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_in_the_block_turns_it_on_again() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("bad config")
    assert gc.isenabled()


def test_the_pass_ends_the_pause_once_its_crawls_are_set_up() -> None:
    """`resume_collection(freeze=True)`, as the pass calls it before its first request:
    the start's objects frozen, the collector on for the crawl, and the block's end changes
    nothing after."""
    gc.enable()
    with collection_paused():
        passes._freeze_startup_objects()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with collection_paused():
        resume_collection()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_run_imports_and_sets_up_with_the_collector_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``newswatch run`` does before its crawls start (the config, Scrapy's imports, the
    crawlers) runs with the collector off; the command leaves it on."""
    cfg = tmp_path / "nw.toml"
    cfg.write_text(
        '[store]\npath = "x.db"\n\n[crawl]\nworkers = 1\n\n'
        '[[sources]]\nname = "a"\nfeeds = ["http://127.0.0.1:9/feed"]\n',
        encoding="utf-8",
    )
    seen: list[bool] = []

    def run_pass(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.isenabled())
        raise SystemExit(1)

    monkeypatch.setattr(passes, "run_pass", run_pass)
    gc.enable()
    result = CliRunner().invoke(main, ["--config", str(cfg), "run", "--no-send"])
    assert result.exit_code == 1, result.output
    assert seen == [False]
    assert gc.isenabled()


def test_run_with_a_bad_config_leaves_the_collector_on(tmp_path: Path) -> None:
    gc.enable()
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "run"])
    assert result.exit_code == 2
    assert gc.isenabled()


def test_scrapys_tls_modules_are_imported_without_a_scan_of_every_loaded_module() -> None:
    """Scrapy's TLS modules name the module of their deprecated aliases from the stack; with
    ``inspect``'s own functions that reads every frame's source and maps every loaded module
    to its file (~0.1 s of a crawl's start). crawler/http11.py has them imported with the
    frames and modules at hand: nothing is scanned, the aliases name the same modules, and
    ``inspect`` is left as it was."""
    probe = (
        "import inspect\n"
        "own = inspect.stack, inspect.getmodule\n"
        "import crawler.http11\n"
        "from scrapy.core.downloader import contextfactory, tls\n"
        "print(len(inspect._filesbymodname), (inspect.stack, inspect.getmodule) == own,\n"
        "      tls.ScrapyClientTLSOptions.__module__,\n"
        "      contextfactory.ScrapyClientContextFactory.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "0",
        "True",
        "scrapy.core.downloader.tls",
        "scrapy.core.downloader.contextfactory",
    ]
