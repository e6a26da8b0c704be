"""Topics: which articles an analyst wants to hear about, and why each one matched.

``matching`` judges an article against the topics ``reader`` reads; ``document`` folds
and cuts the article once, ``rules`` finds terms in it, ``arabic`` and ``hebrew`` spell
terms the ways the news writes them, ``language`` tells a paragraph's language for the
terms scoped to some, ``scoring`` turns hits into a decision (one entity counted once,
exclusions against the topic's core), ``reactions`` tells a third party's reaction and
words a match's reason, ``quotes`` and ``explain`` say why, ``fetch`` reads one page to
explain, ``eval`` measures the rules on the labelled sets shipped beside it, and
``learn`` measures them on the analyst's labels and suggests changes.

The names below are the stage's API. ``fetch`` (network and file I/O, the extractor),
``eval`` (the labelled sets) and ``learn`` are imported by name where they are needed, so
that loading a configuration, which reads the topics, pulls in none of them.
"""

from pipelines.topics.explain import Explanation, ListScore, TermScore, explain, explain_all
from pipelines.topics.matching import (
    FieldWeights,
    Topic,
    Veto,
    default_topics,
    load_topics,
    match_topics,
)

__all__ = [
    "Explanation",
    "FieldWeights",
    "ListScore",
    "TermScore",
    "Topic",
    "Veto",
    "default_topics",
    "explain",
    "explain_all",
    "load_topics",
    "match_topics",
]
