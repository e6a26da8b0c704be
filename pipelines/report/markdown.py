"""The report as Markdown text (``newswatch report --format md``)."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.report import Report


def render_markdown(report: Report) -> str:
    r = report
    out = [
        f"# {r.title}",
        "",
        f"{r.since} to {r.until} ({len(r.days)} days): {r.relevant_total} relevant item(s),"
        f" {r.passes} pass(es).",
        "",
        "## Relevant items per day",
        "",
    ]
    active = [d for d in r.days if any(per.get(d) for per in r.by_lang.values())]
    if active:
        langs = list(r.by_lang)
        out += _table(
            ["day", *langs, "total"],
            [
                [
                    d,
                    *(r.by_lang[k].get(d, 0) for k in langs),
                    sum(p.get(d, 0) for p in r.by_lang.values()),
                ]
                for d in active
            ],
        )
        sources = list(r.by_source)
        out += ["", "By source:", ""]
        out += _table(["source", "items"], [[s, sum(r.by_source[s].values())] for s in sources])
    else:
        out.append("No relevant item in the period.")
    if r.stories is not None:
        out += ["", "## Top stories", ""]
        out += _table(
            ["story", "articles", "outlets", "languages"],
            [[s["title"], s["article_count"], s["sources"], s["languages"]] for s in r.stories],
        ) or ["No story in the period."]
    out += ["", "## Top items", ""]
    out += _table(
        ["day", "title", "source", "lang", "score"],
        [
            [
                a["day"],
                f"[{a['title'] or a['url']}]({a['url']})",
                a["source"],
                a["lang"],
                f"{a['score'] or 0:.1f}",
            ]
            for a in r.top_items
        ],
    ) or ["No relevant item in the period."]
    out += ["", "## Source health", ""]
    out += _table(
        ["source", "passes", "requests", "errors", "new articles", "copies", "relevant"],
        [
            [
                s["source"],
                s["passes"],
                s["requests"],
                s["errors"],
                s["originals"],
                s["copies"],
                s["relevant"],
            ]
            for s in r.sources
        ],
    ) or ["No pass in the period."]
    if r.scores:
        out += ["", "## Topic precision and recall on the labelled sets", ""]
        out += _table(
            ["topic", "labelled set", "articles", "relevant", "precision", "recall"],
            [
                [
                    s.topic,
                    s.labelled_set,
                    s.items,
                    s.relevant,
                    f"{s.precision:.3f}",
                    f"{s.recall:.3f}",
                ]
                for s in r.scores
            ],
        )
    return "\n".join(out) + "\n"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    if not rows:
        return []
    cell = [[str(v).replace("|", "\\|").replace("\n", " ") for v in row] for row in rows]
    return [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
        *("| " + " | ".join(row) + " |" for row in cell),
    ]
