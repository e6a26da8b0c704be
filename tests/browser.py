"""Headless Chromium for the rendering checks (DOM checks, never pixel comparison).

Debian's ``chromium`` is driven through Playwright's protocol client; ``make test``
installs it where it is missing (``make browser``). Where it cannot run, the tests that
need it are skipped with one line saying why; with ``NEWSWATCH_REQUIRE_BROWSER=1`` (set by
``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def cannot_run(reason: str) -> NoReturn:
    """Skip with ``reason``; fail instead where the checks must run
    (``NEWSWATCH_REQUIRE_BROWSER=1``, as ``.ci/run`` sets it)."""
    if os.environ.get("NEWSWATCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"rendering checks required but {reason}")
    pytest.skip(reason)


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        cannot_run("no chromium on this machine (make browser installs Debian's)")
    return path


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium; skips the test where it cannot start."""
    path = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        cannot_run("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        try:
            instance = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001 - any launch failure is a skip reason
            cannot_run(f"chromium cannot start here: {str(exc).splitlines()[0]}")
        try:
            yield instance
        finally:
            instance.close()


def evaluate(
    target: str | Path,
    script: str,
    *,
    width: int = 1280,
    height: int = 900,
    screenshot: str | None = None,
    dark: bool = False,
) -> Any:
    """Open ``target`` (an http URL or a file path) at ``width`` px, run the JavaScript
    expression ``script`` once the page has loaded, and return its (JSON) value.

    ``screenshot`` names a PNG kept under ``tests/artifacts/`` (ignored by git)."""
    url = target if isinstance(target, str) and "://" in target else Path(target).resolve().as_uri()
    with browser() as instance:
        page = instance.new_page(
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
        )
        page.goto(url, wait_until="load")
        value = page.evaluate(script)
        if screenshot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        page.close()
        return value


def no_horizontal_scroll_js() -> str:
    """A script value: true when the page is no wider than the viewport."""
    return "document.documentElement.scrollWidth <= window.innerWidth"
