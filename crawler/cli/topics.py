"""``newswatch topics``: evaluate the topic rules and explain how one article scores."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, pass_state
from crawler.cli.stories import story_for, story_line
from pipelines.config import resolve_config_path
from pipelines.errors import ExitCode, NewswatchError, UsageError
from pipelines.models import Article
from pipelines.topics import Topic, default_topics
from pipelines.topics.eval import (
    BUNDLED_SETS,
    Evaluation,
    LabelledArticle,
    Outcome,
    evaluate,
    load_bundled,
    read_labelled_file,
)
from pipelines.topics.explain import Explanation, ListScore, explain_all

FETCH_TIMEOUT = 30.0


@click.group()
def topics() -> None:
    """Evaluate and explain the topic rules (see docs/topics.md).

    \b
    Example:
        newswatch topics eval --errors
        newswatch topics test saved-page.html
    """


def configured_topics(state: State, names: Sequence[str]) -> list[Topic]:
    """The configured topics; the built-in one when there is no config file to read.

    A config named with --config or NEWSWATCH_CONFIG must exist; only the implicit
    ./newswatch.toml may be absent.
    """
    path = resolve_config_path(state.config_path)
    explicit = state.config_path is not None or path != Path("newswatch.toml")
    chosen = list(state.config.topics) if explicit or path.exists() else default_topics()
    if not names:
        return chosen
    known = {t.name: t for t in chosen}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NewswatchError(
            f"no topic named {unknown[0]!r}; the topics are: {', '.join(known) or 'none'}"
        )
    return [known[n] for n in names]


@topics.command("eval")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--topic", "names", multiple=True, help="Evaluate only this topic (repeatable).")
@click.option("--errors", is_flag=True, help="List the misclassified articles and why.")
@click.option("--min-precision", type=click.FloatRange(0, 1), help="Fail below this precision.")
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Fail below this recall.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--feedback", "use_feedback", is_flag=True, help="Measure on the analyst's labels instead."
)
@pass_state
@fail_cleanly
def eval_(
    state: State,
    files: tuple[Path, ...],
    names: tuple[str, ...],
    errors: bool,
    min_precision: float | None,
    min_recall: float | None,
    as_json: bool,
    use_feedback: bool,
) -> None:
    """Measure the topics on labelled articles: precision, recall, F1 per language.

    FILES are JSON Lines, one article a line: {"id", "lang", "relevant", "title", "text",
    "kind"}. Without FILES, the labelled sets shipped with newswatch are used; with
    --feedback, the labels given with `newswatch feedback` (of the evaluated topics). An
    article counts as found when it matches any evaluated topic (a reaction kept as
    context is not found). With --min-precision or --min-recall, the exit status is 1
    when the figure of any language, or of all together, is below the threshold.

    \b
    Example:
        newswatch topics eval --errors
        newswatch topics eval --feedback --errors
        newswatch topics eval my-set.jsonl --min-precision 0.95 --min-recall 0.9
    """
    chosen = configured_topics(state, names)
    if use_feedback and files:
        raise UsageError("give FILES or --feedback, not both")
    items = _feedback_items(state, chosen) if use_feedback else _items(files)
    if use_feedback:
        files = (Path("feedback"),)
    result = evaluate(items, chosen)
    failures = _below(result, min_precision, min_recall)
    if as_json:
        _print_json(result, chosen, files, failures)
    else:
        _print_table(result, chosen, files, errors, failures)
    if failures:
        sys.exit(ExitCode.FAILED)


def _feedback_items(state: State, chosen: list[Topic]) -> list[LabelledArticle]:
    """The analyst's labels of the chosen topics; none is an error that says how to give one."""
    from crawler.cli.common import open_existing_store
    from pipelines.topics.learn import labelled_feedback

    with open_existing_store(state) as store:
        rows = store.feedback([t.name for t in chosen])
    if not rows:
        raise UsageError(
            "no feedback yet for these topics; label articles with "
            "`newswatch feedback ARTICLE --relevant` or `--not-relevant`"
        )
    return labelled_feedback(rows)


def _items(files: tuple[Path, ...]) -> list[LabelledArticle]:
    if not files:
        return load_bundled()
    return [item for path in files for item in read_labelled_file(path)]


def _below(result: Evaluation, min_precision: float | None, min_recall: float | None) -> list[str]:
    failures = []
    for lang, scores in result.by_language().items():
        if min_precision is not None and scores.precision < min_precision:
            failures.append(f"{lang}: precision {scores.precision:.3f} < {min_precision:g}")
        if min_recall is not None and scores.recall < min_recall:
            failures.append(f"{lang}: recall {scores.recall:.3f} < {min_recall:g}")
    return failures


def _set_names(files: tuple[Path, ...]) -> list[str]:
    return [str(f) for f in files] or [f"{name} (bundled)" for name in BUNDLED_SETS]


def _print_table(
    result: Evaluation,
    chosen: list[Topic],
    files: tuple[Path, ...],
    errors: bool,
    failures: list[str],
) -> None:
    click.echo(f"sets: {', '.join(_set_names(files))}")
    click.echo(f"topics: {', '.join(t.name for t in chosen)}")
    click.echo(
        f"{'lang':<5} {'items':>5} {'relevant':>8} {'tp':>4} {'fp':>4} {'fn':>4} "
        f"{'precision':>9} {'recall':>6} {'f1':>6}"
    )
    for lang, s in result.by_language().items():
        click.echo(
            f"{lang:<5} {s.items:>5} {s.relevant:>8} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
            f"{s.precision:>9.3f} {s.recall:>6.3f} {s.f1:>6.3f}"
        )
    if errors:
        wrong = result.errors
        click.echo(f"\nmisclassified: {len(wrong)}")
        for outcome in wrong:
            click.echo(_error_line(outcome, chosen))
    for failure in failures:
        click.echo(f"below threshold: {failure}", err=True)


def _error_line(outcome: Outcome, chosen: list[Topic]) -> str:
    item = outcome.item
    if outcome.found:
        label = "false positive"
        why = "; ".join(f"{m.topic} score {m.score:g}" for m in outcome.matches)
    else:
        label = "missed"
        verdicts = [e for e in explain_all(item.article(), chosen) if not e.matched]
        why = "; ".join(f"{e.topic}: {e.verdict}" for e in verdicts)
    title = item.title if len(item.title) <= 70 else item.title[:69] + "…"
    return f"  {label:<14} {item.id} [{item.lang}, {item.kind}] {title}\n      {why}"


def _print_json(
    result: Evaluation, chosen: list[Topic], files: tuple[Path, ...], failures: list[str]
) -> None:
    out = {
        "sets": _set_names(files),
        "topics": [t.name for t in chosen],
        "scores": {lang: s.to_dict() for lang, s in result.by_language().items()},
        "errors": [
            {
                "id": o.item.id,
                "lang": o.item.lang,
                "kind": o.item.kind,
                "relevant": o.item.relevant,
                "title": o.item.title,
                "matches": [m.to_dict() for m in o.matches],
            }
            for o in result.errors
        ],
        "below_threshold": failures,
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@topics.command("test")
@click.argument("source")
@click.option("--topic", "names", multiple=True, help="Explain only this topic (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@pass_state
@fail_cleanly
def test(state: State, source: str, names: tuple[str, ...], as_json: bool) -> None:
    """Show how one article scores against each topic, and why.

    SOURCE is an .html file (the article is extracted as in a crawl), a plain-text file
    (first line: the title; then the text, one paragraph a line) or an http(s) URL,
    fetched once and extracted.

    \b
    Example:
        newswatch topics test saved-page.html
        newswatch topics test article.txt --json
        newswatch topics test https://www.example.org/news/1234.html
    """
    chosen = configured_topics(state, names)
    article = _read_article(source)
    explanations = explain_all(article, chosen)
    if as_json:
        out = {
            "article": {"url": article.url, "title": article.title, "lang": article.lang},
            "topics": [e.to_dict() for e in explanations],
            "story": story_for(state, article),
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"article: {article.title or '(no title)'}")
    click.echo(
        f"  {article.url} — {len(article.text.split())} words, language {article.lang or 'unknown'}"
    )
    for explanation in explanations:
        click.echo("")
        click.echo(_render(explanation))
    joined = story_for(state, article)  # the stored story it would join (docs/stories.md)
    if joined is not None:
        click.echo(f"\nstory: {story_line(joined)}")


def _read_article(source: str) -> Article:
    from pipelines.topics.fetch import article_from_file, article_from_url

    if source.startswith(("http://", "https://")):
        return article_from_url(source, timeout=FETCH_TIMEOUT)
    try:
        return article_from_file(Path(source))
    except NewswatchError as exc:  # a file that is missing or unreadable: a usage error
        raise UsageError(str(exc)) from None


def _render(e: Explanation) -> str:
    lines = [
        f"topic {e.topic}: {_headline(e)} — {e.verdict}",
        f"  score {e.score:g} (min_score {e.min_score:g}, each group at least "
        f"{e.min_group_score:g})",
        f"  proximity {e.proximity}: groups meet in {e.groups_meet}",
    ]
    lines += [_render_list("group", g) for g in e.groups]
    if e.exclusions:
        lines += [_render_list("exclude", x) for x in e.exclusions]
    else:
        lines.append("  exclusions: none hit")
    if e.snippet:
        lines.append(f"  snippet: {e.snippet}")
    return "\n".join(lines)


def _headline(e: Explanation) -> str:
    if e.match is not None and e.match.kind == "reaction":
        return "REACTION (context, not alerted)"
    return "MATCH" if e.matched else "no match"


def _render_list(kind: str, item: ListScore) -> str:
    head = f"  {kind} {item.name}: {item.score:g}"
    if not item.terms:
        return head + " (no term found)"
    rows = [head]
    for term in item.terms:
        where = ", ".join(f"{f} ×{n}" if n > 1 else f for f, n in term.fields.items())
        far = f", {term.far} too far from the other groups" if term.far and kind == "group" else ""
        spelled = " / ".join(term.words)
        points = f"{term.points:g} point{'' if term.points == 1 else 's'}"
        capped = " (capped)" if term.capped else ""
        rows.append(f"    {term.term!r} = {spelled} [{where}] {points}{capped}{far}")
    return "\n".join(rows)


def _register() -> None:
    from crawler.cli.topics_suggest import suggest

    topics.add_command(suggest)


_register()
