"""The quality gate: story clustering on the labelled set shipped with newswatch
(pipelines/stories/eval/stories.jsonl), through the production path, stays above a floor.

The floors sit just below what the shipped settings reach; `newswatch stories eval` prints
the figures. A change that lowers them must say why (docs/stories.md, "Quality").
"""

from __future__ import annotations

from pipelines.stories.evaluate import evaluate

PAIR_PRECISION = 0.92
PAIR_RECALL = 0.80
BCUBED_F1 = 0.87


def test_clustering_the_labelled_set_stays_above_the_floor() -> None:
    scores = evaluate()
    assert scores.articles >= 200 and scores.stories >= 40
    assert scores.pair_precision >= PAIR_PRECISION, scores
    assert scores.pair_recall >= PAIR_RECALL, scores
    assert scores.bcubed_f1 >= BCUBED_F1, scores
