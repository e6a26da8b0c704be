"""Topics: which articles an analyst wants to hear about, and why each one matched.

``matching`` reads a topic and judges an article; ``rules`` finds terms in text, ``arabic``
spells Arabic terms the ways the news writes them, ``scoring`` turns hits into a decision,
``quotes`` and ``explain`` say why, ``fetch`` reads one page to explain, and ``eval`` measures
the rules on the labelled sets shipped beside it.

The names below are the stage's API. ``fetch`` (network and file I/O, the extractor) and
``eval`` (the labelled sets) are imported by name where they are needed, so that loading a
configuration, which reads the topics, pulls in neither.
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
