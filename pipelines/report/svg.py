"""Inline SVG charts for the report: a stacked bar per day, no script, no library.

Every day of the period is a ``<g class="day" data-day="2026-11-18" data-total="3">``
(zero days included, so the axis is honest), holding one ``<rect class="bar">`` per series
with items that day (``data-series``, ``data-count``, and a ``<title>`` a browser shows on
hover). The chart scales with the page (``viewBox``) and reads in light and dark mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

# Okabe-Ito: told apart by colour-blind readers; the legend names each series too.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
)
WIDTH, HEIGHT = 900, 240
LEFT, BOTTOM, TOP = 36, 28, 10


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    chart_id: str, days: Sequence[str], series: Mapping[str, Mapping[str, int]], label: str
) -> str:
    """``series``: name -> day -> count. Returns the ``<svg>`` element and its legend."""
    names = list(series)
    totals = {d: sum(series[n].get(d, 0) for n in names) for d in days}
    peak = max([*totals.values(), 1])
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.8, 1.0)
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(label)}</title>",
    ]
    parts += _axis(peak, plot_h, plot_w)
    for i, day in enumerate(days):
        x = LEFT + i * step + (step - bar_w) / 2
        parts.append(f'<g class="day" data-day="{day}" data-total="{totals[day]}">')
        y: float = TOP + plot_h
        for n, name in enumerate(names):
            count = series[name].get(day, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}"'
                f' height="{h:.1f}" fill="{colour(n)}" data-series="{escape(name)}"'
                f' data-count="{count}"><title>{day}: {count} {escape(name)}</title></rect>'
            )
        parts.append("</g>")
    parts += _day_labels(days, step)
    parts.append("</svg>")
    return "\n".join(parts) + legend(names)


def legend(names: Sequence[str]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{colour(i)}"></span>{escape(n)}</li>'
        for i, n in enumerate(names)
    )
    return f'<ul class="legend">{items}</ul>'


def _axis(peak: int, plot_h: float, plot_w: float) -> list[str]:
    """The base line and up to 4 gridlines at whole numbers."""
    ticks = sorted({round(peak * k / 4) for k in range(5)})
    lines = []
    for t in ticks:
        y = TOP + plot_h - plot_h * t / peak
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{t}</text>'
        )
    return lines


def _day_labels(days: Sequence[str], step: float) -> list[str]:
    """A date under the first day, the last, and evenly between (at most 8 labels)."""
    if not days:
        return []
    every = max(1, len(days) // 7)
    shown = set(range(0, len(days), every))
    shown = {i for i in shown if len(days) - 1 - i >= every * 0.6} | {len(days) - 1}
    y = HEIGHT - 8
    return [
        f'<text class="tick" x="{LEFT + i * step + step / 2:.1f}" y="{y}"'
        f' text-anchor="middle">{days[i][5:]}</text>'
        for i in sorted(shown)
    ]
