"""An alert and a digest in headless Chromium, at a phone's 390 px and a desktop's 1280 px,
light and dark: no horizontal scroll, the title, outlet and date of every item visible (DOM
checks in the browser; the screenshots are kept under tests/artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import evaluate, no_horizontal_scroll_js
from items import item, outlet

from pipelines.mail import Style, render_html

CHECK = """(() => {
  const inside = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5
      && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const items = [...document.querySelectorAll('.item')];
  return {
    noScroll: NO_SCROLL,
    items: items.length,
    titles: items.filter((i) => inside(i.querySelector('.title'))).length,
    outlets: items.filter((i) => inside(i.querySelector('.outlet'))).length,
    dates: items.filter((i) => inside(i.querySelector('.date'))).length,
    rtl: items.filter((i) => getComputedStyle(i).direction === 'rtl').length,
    background: getComputedStyle(document.body).backgroundColor,
  };
})()""".replace("NO_SCROLL", no_horizontal_scroll_js())


def pages(tmp_path: Path) -> dict[str, tuple[Path, int, int]]:
    long_title = "Défense: " + "unmotlongsansespacequidébordelécran" * 4
    story = item(
        title=long_title,
        url="https://www.example.org/" + "x" * 200,
        story_id=1,
        story_title="Drones",
        story_sources=3,
        story_languages=("fr", "en"),
        outlets=(outlet(1, "also-covered"), outlet(2, "copy")),
        copies=["https://copies.example.net/" + "y" * 150],
    )
    arabic = item(alert_id=9, title="المغرب وإسرائيل يوقعان اتفاقية دفاعية", lang="ar")
    digest = [
        item(alert_id=n, article_id=n, title=f"Article {n} " * 6, url=f"https://s{n}.example/a")
        for n in range(1, 8)
    ] + [arabic]
    out = {}
    for name, items, rtl in (("alert", [story], 0), ("digest", digest, 1)):
        path = tmp_path / f"{name}.html"
        path.write_text(render_html(items, style=Style(timezone="Europe/Paris")), "utf-8")
        out[name] = (path, len(items), rtl)
    return out


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["alert", "digest"])
def test_reads_on_a_phone_and_a_desktop(tmp_path: Path, name: str, width: int, dark: bool) -> None:
    path, count, rtl = pages(tmp_path)[name]
    shot = f"desk-{name}-{width}-{'dark' if dark else 'light'}.png"
    found = evaluate(path, CHECK, width=width, dark=dark, screenshot=shot)

    assert found["noScroll"] is True
    assert (found["items"], found["titles"], found["outlets"], found["dates"]) == (count,) * 4
    assert found["rtl"] == rtl
    light = found["background"] == "rgb(244, 244, 242)"
    assert light is not dark  # the dark scheme applies where the client asks for it
