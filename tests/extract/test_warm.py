"""The forkserver's warm-up (pipelines/extract/warm.py): what the extraction builds on first
use is built once there, before the workers are forked, but not the fallbacks' stop lists
(which most passes never need); and a warm-up that fails is no error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.extract import extract_article
from pipelines.extract import warm as warm_module
from pipelines.extract.langmodel import CACHE_ENV


def test_the_warm_up_page_is_an_article() -> None:
    # Else the warm-up would stop short of the metadata, dates and fingerprint it is for.
    article = extract_article(
        warm_module.ARTICLE_PAGE.encode(), warm_module.WARM_URL, encoding="utf-8"
    )
    assert article is not None
    assert article.title == "Central library to stay open later on weekdays"
    assert (article.author, article.lang) == ("Sam Carter", "en")
    assert article.published is not None and article.published.startswith("2026-03-10")
    assert "nine o'clock" in article.text and "Accept" not in article.text


def test_importing_it_loads_what_a_first_page_would() -> None:
    # A fresh interpreter: this test process has long loaded both.
    probe = (
        "import pipelines.text as text, tld.utils as tu\n"
        "assert text._combining_marks.cache_info().currsize == 0\n"
        "assert not any(tu.tld_names.values())\n"
        "import trafilatura.external as te\n"
        "import pipelines.extract.warm\n"
        "print(text._combining_marks.cache_info().currsize, bool(any(tu.tld_names.values())))\n"
        "print(te.JT_STOPLIST is None)\n"  # the fallbacks' stop lists are not loaded
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "True", "True"]


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_the_warmed_server_keeps_none_of_the_model_s_pages(tmp_path: Path) -> None:
    # What the forkserver holds once warm: the model loaded (from a mapped copy), the
    # pages its warm-up read unmapped.
    probe = (
        "import pipelines.extract.warm\n"
        "from pipelines.extract.metadata import _identifier\n"
        "from test_langmodel import resident_model_bytes\n"
        "model = _identifier()\n"
        "print(resident_model_bytes(model))\n"
        "print(model.classify('The council voted to keep the library open.')[0])\n"
        "print(resident_model_bytes(model) > 0)\n"
    )
    env = {**os.environ, CACHE_ENV: str(tmp_path)}
    path = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    env["PYTHONPATH"] = os.pathsep.join([*path, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "en", "True"]


def test_a_warm_up_that_fails_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no extraction here")

    monkeypatch.setattr("pipelines.extract.extract_article", broken)
    warm_module.warm_extraction()  # raises nothing
