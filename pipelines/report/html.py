"""The report as one self-contained HTML file: inline CSS and SVG, no script, no fetch."""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from pipelines.report import Report
from pipelines.report.svg import stacked_bars

_CSS = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #666; --line: #ddd; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #161616; --muted: #aaa; --line: #444; }
}
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg);
       max-width: 960px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: var(--muted); margin-top: .2rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.chart { width: 100%; height: auto; }
.chart .grid { stroke: var(--line); } .chart .tick { fill: var(--muted); font-size: 11px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
          vertical-align: -.1rem; }
.trouble { color: #D55E00; font-weight: 600; }
.wrap { overflow-x: auto; }
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% set none_relevant = "<p>No relevant item in the period.</p>"|safe %}
<title>{{ r.title }}: {{ r.since }} to {{ r.until }}</title>
<style>{{ css }}</style></head>
<body>
<h1>{{ r.title }}</h1>
<p class="meta">{{ r.since }} to {{ r.until }} ({{ r.days|length }} days) ·
{{ r.relevant_total }} relevant item(s) · {{ r.passes }} pass(es) ·
generated {{ r.generated_at[:16].replace("T", " ") }} UTC</p>

<h2 id="timeline">Relevant items per day, by language</h2>
{% if r.relevant_total %}{{ by_lang|safe }}{% else %}{{ none_relevant }}{% endif %}
<h2>Relevant items per day, by source</h2>
{% if r.relevant_total %}{{ by_source|safe }}{% else %}{{ none_relevant }}{% endif %}

{% if r.stories is not none %}
<h2 id="top">Top stories</h2>
{% if r.stories %}<div class="wrap"><table class="stories"><tr><th>story</th>
<th class="n">articles</th><th>outlets</th><th>languages</th><th>last change</th></tr>
{% for s in r.stories %}<tr><td>{{ s.title }}</td><td class="n">{{ s.article_count }}</td>
<td>{{ s.sources }}</td><td>{{ s.languages }}</td><td>{{ (s.updated_at or "")[:10] }}</td></tr>
{% endfor %}</table></div>{% else %}<p>No story in the period.</p>{% endif %}
{% endif %}
<h2 id="items">Top items</h2>
{% if r.top_items %}<div class="wrap"><table class="items"><tr><th>day</th><th>title</th>
<th>source</th><th>lang</th><th class="n">score</th></tr>
{% for a in r.top_items %}<tr><td>{{ a.day }}</td>
<td><a href="{{ a.url }}">{{ a.title or a.url }}</a></td><td>{{ a.source }}</td>
<td>{{ a.lang }}</td><td class="n">{{ "%.1f"|format(a.score or 0) }}</td></tr>
{% endfor %}</table></div>{% else %}{{ none_relevant }}{% endif %}

<h2 id="sources">Source health</h2>
{% if r.sources %}<div class="wrap"><table class="sources"><tr><th>source</th>
<th class="n">passes</th><th class="n">requests</th><th class="n">errors</th>
<th class="n">new articles</th><th class="n">copies</th><th class="n">relevant</th></tr>
{% for s in r.sources %}<tr><td>{{ s.source }}</td><td class="n">{{ s.passes }}</td>
<td class="n">{{ s.requests }}</td>
<td class="n{% if s.errors and not s.articles %} trouble{% endif %}">{{ s.errors }}</td>
<td class="n">{{ s.originals }}</td><td class="n">{{ s.copies }}</td>
<td class="n">{{ s.relevant }}</td></tr>
{% endfor %}</table></div>{% else %}<p>No pass in the period.</p>{% endif %}

{% if r.scores %}
<h2 id="scores">Topic precision and recall on the labelled sets</h2>
<div class="wrap"><table class="scores"><tr><th>topic</th><th>labelled set</th>
<th class="n">articles</th><th class="n">relevant</th><th class="n">precision</th>
<th class="n">recall</th></tr>
{% for s in r.scores %}<tr><td>{{ s.topic }}</td><td>{{ s.labelled_set }}</td>
<td class="n">{{ s.items }}</td><td class="n">{{ s.relevant }}</td>
<td class="n">{{ "%.3f"|format(s.precision) }}</td>
<td class="n">{{ "%.3f"|format(s.recall) }}</td></tr>
{% endfor %}</table></div>
{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True), trim_blocks=True)


def render_html(report: Report) -> str:
    """The whole report, one file: opens anywhere, offline."""
    by_lang = stacked_bars(
        "by-lang", report.days, report.by_lang, "Relevant items per day, by language"
    )
    by_source = stacked_bars(
        "by-source", report.days, report.by_source, "Relevant items per day, by source"
    )
    return _ENV.from_string(_TEMPLATE).render(
        r=report, css=_CSS, by_lang=by_lang, by_source=by_source
    )
