"""The forkserver's warm-up (pipelines/extract/warm.py): what the extraction builds on first
use is built once there, before the workers are forked, and a warm-up that fails is no
error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.extract import extract_article
from pipelines.extract import warm as warm_module


def test_the_article_page_is_an_article_and_the_section_page_is_none() -> None:
    # Else the warm-up would stop short of the metadata, dates and fingerprint it is for.
    url = "https://news.example.org/local/2026/03/library-hours.html"
    article = extract_article(warm_module.ARTICLE_PAGE.encode(), url, encoding="utf-8")
    assert article is not None
    assert article.title == "Central library to stay open later on weekdays"
    assert (article.author, article.lang) == ("Sam Carter", "en")
    assert article.published is not None and article.published.startswith("2026-03-10")
    assert "nine o'clock" in article.text and "Accept" not in article.text
    section = extract_article(
        warm_module.SECTION_PAGE.encode(), "http://127.0.0.1:8080/local/", encoding="utf-8"
    )
    assert section is None


def test_importing_it_loads_what_a_first_page_would() -> None:
    # A fresh interpreter: this test process has long loaded both.
    probe = (
        "import pipelines.text as text, tld.utils as tu\n"
        "assert text._combining_marks.cache_info().currsize == 0\n"
        "assert not any(tu.tld_names.values())\n"
        "import pipelines.extract.warm\n"
        "print(text._combining_marks.cache_info().currsize, bool(any(tu.tld_names.values())))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "True"]


def test_a_warm_up_that_fails_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no extraction here")

    monkeypatch.setattr("pipelines.extract.extract_article", broken)
    warm_module.warm_extraction()  # raises nothing
