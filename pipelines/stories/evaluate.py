"""Measuring story clustering on a labelled set (``eval/stories.jsonl`` beside this module).

The set's articles go through the production path in a temporary store: stored in the
order of the file with the near-duplicate check and the default topics, then clustered by
:func:`pipelines.stories.cluster_new`. The predicted stories are compared with the labels:
pairwise precision and recall (over pairs of articles put together) and BCubed precision,
recall and F1 (per article, then averaged).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pipelines.config.stories import StoriesConfig
from pipelines.dedup import content_hash, find_duplicate, index_document
from pipelines.errors import NewswatchError
from pipelines.models import Article
from pipelines.stories.engine import cluster_new
from pipelines.topics import default_topics, match_topics

REQUIRED = ("id", "story", "lang", "title", "text")


@dataclass(frozen=True)
class Scores:
    articles: int
    stories: int  # in the labels
    predicted: int  # stories found
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float


def default_set() -> Path:
    return Path(str(resources.files("pipelines.stories").joinpath("eval/stories.jsonl")))


def load_set(path: Path) -> list[dict[str, Any]]:
    """The labelled articles; one clear error naming the file and line when one is bad."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NewswatchError(f"{path}: cannot read the labelled set: {exc.strerror}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise NewswatchError(f"{path}:{number}: not JSON: {exc.msg}") from None
        missing = [k for k in REQUIRED if not isinstance(row, dict) or not row.get(k)]
        if missing:
            raise NewswatchError(f"{path}:{number}: missing {', '.join(missing)}")
        rows.append(row)
    if not rows:
        raise NewswatchError(f"{path}: no labelled articles")
    return rows


def cluster_set(
    rows: Sequence[Mapping[str, Any]], settings: StoriesConfig | None = None
) -> dict[str, int]:
    """Labelled id -> predicted story id, through a temporary store."""
    from pipelines.store import open_store

    topics = default_topics()
    with tempfile.TemporaryDirectory(prefix="newswatch-stories-") as folder:
        store = open_store(Path(folder) / "eval.db")
        try:
            ids = {}
            for row in rows:
                ids[str(row["id"])] = store_labelled(store, row, topics)
            cluster_new(store, settings)
            return {key: store.article_story(article_id) or 0 for key, article_id in ids.items()}
        finally:
            store.close()


def store_labelled(store: Any, row: Mapping[str, Any], topics: Any) -> int:
    text = str(row["text"])
    url = f"https://{row.get('source') or 'eval.example'}/{row['id']}"
    article = Article(
        url=url, title=row.get("title"), text=text, published=row.get("published"),
        lang=row.get("lang"),
    )  # fmt: skip
    matches = match_topics(article, topics)
    dup = find_duplicate(store, text)
    fetched = str(row.get("published") or "2000-01-01T00:00:00+00:00")
    with store.transaction():
        article_id: int = store.insert_article(
            {
                "url": url,
                "url_key": url.split("://", 1)[1],
                "final_url": url,
                "source": row.get("source") or "eval",
                "lang": row.get("lang"),
                "title": row.get("title"),
                "text": text,
                "published": row.get("published"),
                "fetched_at": fetched,
                "updated_at": fetched,
                "content_hash": content_hash(text),
                "duplicate_of": dup.article_id if dup else None,
                "overlap": dup.overlap if dup else None,
                "relevant": int(bool(matches)),
                "topics": json.dumps([m.to_dict() for m in matches], ensure_ascii=False),
            }
        )
        if dup is None:
            index_document(store, article_id, text)
    return article_id


def score(gold: Mapping[str, str], predicted: Mapping[str, int]) -> Scores:
    """Pairwise and BCubed figures of ``predicted`` against ``gold`` (same ids)."""
    ids = sorted(gold)
    gold_of = {i: gold[i] for i in ids}
    pred_of = {i: predicted[i] for i in ids}
    same_gold = {i: {j for j in ids if gold_of[j] == gold_of[i]} for i in ids}
    same_pred = {i: {j for j in ids if pred_of[j] == pred_of[i]} for i in ids}
    both = sum(len(same_gold[i] & same_pred[i]) - 1 for i in ids)
    pred_pairs = sum(len(same_pred[i]) - 1 for i in ids)
    gold_pairs = sum(len(same_gold[i]) - 1 for i in ids)
    p = both / pred_pairs if pred_pairs else 1.0
    r = both / gold_pairs if gold_pairs else 1.0
    bp = sum(len(same_gold[i] & same_pred[i]) / len(same_pred[i]) for i in ids) / len(ids)
    br = sum(len(same_gold[i] & same_pred[i]) / len(same_gold[i]) for i in ids) / len(ids)
    return Scores(
        articles=len(ids),
        stories=len(set(gold_of.values())),
        predicted=len(set(pred_of.values())),
        pair_precision=p,
        pair_recall=r,
        pair_f1=_f1(p, r),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
    )


def evaluate(path: Path | None = None, settings: StoriesConfig | None = None) -> Scores:
    rows = load_set(path or default_set())
    predicted = cluster_set(rows, settings)
    return score({str(r["id"]): str(r["story"]) for r in rows}, predicted)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
